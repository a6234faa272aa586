"""Parse: Helm's output into `Manifest` objects, each with its `# Source:` template, for the checks."""
