"""Package layout that pyproject.toml alone cannot express (the metadata lives there).

The built-in policy pack's source is the top-level `policies/` directory - where policy authors and
`make gate` expect it - but an installed package needs a name that cannot clash with anything in a
user's environment: the wheel maps `policies/` to the package `chartgate_builtin`. An editable
install maps the same name onto the checkout's `policies/`, so chartgate recognises its own checkout's
policy directory as the installed pack (and judges it once). Every package under src/ is found
automatically, so a new subpackage needs no edit here.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages("src"), "chartgate_builtin"],
    package_dir={"": "src", "chartgate_builtin": "policies"},
)
