"""Security posture of every container and pod (SEC-001 ... SEC-009, SEC-017, SEC-020).

Each rule judges a container's EFFECTIVE securityContext - the pod's inheritable fields overridden
by the container's own, as the kubelet computes it - for containers, init containers and ephemeral
containers of every pod template (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod,
and custom resources whose `spec.template` is a pod template). Rules are chart-level: they walk every
planned scenario that rendered, judge each distinct object once, and report each defect once,
naming the scenarios where it appears (a debug toggle that turns on `privileged` is found, and
reported once, even though the default render is clean).

Errors are settings a chart actively turns on (privileged, root UID, dangerous capabilities, host
namespaces, hostPath, hostPort); warnings are hardening the chart leaves at Kubernetes' permissive default
(a `helm create` chart gets warnings, never errors).
"""

from __future__ import annotations

from chartgate import ChartContext, Severity, policy
from chartgate.lib.podspec import Container, PodSpec
from chartgate.lib.rules import Violation, container_findings, pod_findings

REFERENCE = "docs/policies.md#sec"

# Capabilities the Pod Security Standards' baseline profile lets a container add; anything else
# (NET_ADMIN, SYS_ADMIN, NET_RAW, SYS_PTRACE, SYS_MODULE, BPF, ALL ...) breaks baseline isolation.
BASELINE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"})
HOST_NAMESPACES = {"hostNetwork": "network namespace (its interfaces, and every port on the node)",
                   "hostPID": "process namespace (it sees, and can signal or trace, every process on the node)",
                   "hostIPC": "IPC namespace (shared memory of every process on the node)"}


def capabilities(names) -> list[str]:
    """Capability names as Kubernetes spells them (`CAP_NET_ADMIN` and `net_admin` are NET_ADMIN)."""
    found = []
    for name in names if isinstance(names, list) else []:
        text = str(name).strip().upper()
        found.append(text[4:] if text.startswith("CAP_") else text)
    return found


def added(container: Container) -> list[str]:
    caps = container.security.get("capabilities")
    return capabilities(caps.get("add")) if isinstance(caps, dict) else []


def dropped(container: Container) -> list[str]:
    caps = container.security.get("capabilities")
    return capabilities(caps.get("drop")) if isinstance(caps, dict) else []


def privileged(container: Container) -> bool:
    return container.security.get("privileged") is True


def sc_path(container: Container, key: str) -> str:
    """Where `key` of the effective securityContext comes from: the container's own securityContext,
    else the pod's, else (unset) where the container should set it."""
    own = container.body.get("securityContext")
    pod = container.pod.spec.get("securityContext")
    if not (isinstance(own, dict) and key in own) and isinstance(pod, dict) and key in pod:
        return f"{container.pod.path}.securityContext.{key}"
    return f"{container.path}.securityContext.{key}"


def keyed(value) -> tuple:
    """What tells two findings on one container field apart: a port's number (its index moves)."""
    return (value.get("containerPort"),) if isinstance(value, dict) and "containerPort" in value else ()


# --- SEC-001 ---------------------------------------------------------------------------------------


@policy(
    id="SEC-001",
    title="No privileged container",
    receives="chart",
    rationale="""A privileged container has every capability and the node's devices, with no seccomp
    or AppArmor confinement: a compromise of it is root on the node. Only node-level agents (CNI,
    storage or device drivers) need it, and they carry a waiver saying so.""",
    reference=REFERENCE,
    remediation="""Remove `privileged` and add only the capabilities the container needs; run a Windows
    HostProcess container as a normal Windows container.""",
)
def no_privileged_containers(ctx: ChartContext):
    def judge(c: Container):
        if privileged(c):
            yield Violation(sc_path(c, "privileged"), f"{c.label} runs privileged (privileged: true)",
                            {"securityContext": c.security})
        options = c.security.get("windowsOptions")
        if isinstance(options, dict) and options.get("hostProcess") is True:
            yield Violation(sc_path(c, "windowsOptions"), f"{c.label} is a Windows HostProcess container "
                            "(windowsOptions.hostProcess: true), i.e. privileged on the node",
                            {"securityContext": c.security})
    yield from container_findings(ctx, judge)


# --- SEC-002 ---------------------------------------------------------------------------------------


@policy(
    id="SEC-002",
    title="Containers set allowPrivilegeEscalation: false",
    receives="chart",
    severity=Severity.WARNING,
    rationale="""Unless allowPrivilegeEscalation is false, a process can gain privileges its parent
    did not have (setuid binaries, file capabilities). Kubernetes defaults it to true, so a chart
    that says nothing allows it: a hardening gap (warning), not a grant. Privileged containers and
    containers adding SYS_ADMIN always escalate; SEC-001 and SEC-003 report those.""",
    reference=REFERENCE,
    remediation="Set securityContext.allowPrivilegeEscalation: false.",
)
def no_privilege_escalation(ctx: ChartContext):
    def judge(c: Container):
        if privileged(c) or "SYS_ADMIN" in added(c) or "ALL" in added(c):
            return  # escalation is implied; the grant itself is SEC-001's or SEC-003's finding
        value = c.security.get("allowPrivilegeEscalation")
        if value is False:
            return
        shown = str(value).lower() if isinstance(value, bool) else repr(value)
        what = (f"{c.label} allows privilege escalation (allowPrivilegeEscalation: {shown})" if value is not None
                else f"{c.label} does not set allowPrivilegeEscalation: false (Kubernetes defaults it to true)")
        yield Violation(sc_path(c, "allowPrivilegeEscalation"), what, {"securityContext": c.security})
    yield from container_findings(ctx, judge, linux_only=True, posture=True)


# --- SEC-003 ---------------------------------------------------------------------------------------


@policy(
    id="SEC-003",
    title="Containers add no capability beyond the Pod Security Standards baseline",
    receives="chart",
    rationale="""NET_ADMIN, SYS_ADMIN, NET_RAW, SYS_PTRACE, SYS_MODULE, BPF and the like let a container
    reconfigure the node's network, mount file systems, load kernel modules or trace other processes.
    The baseline set (NET_BIND_SERVICE for ports below 1024, CHOWN, SETUID ...) is fine: an ingress
    controller adding NET_BIND_SERVICE is not a finding.""",
    reference=REFERENCE,
    remediation="""Remove the capabilities beyond the baseline from securityContext.capabilities.add;
    baseline ones such as NET_BIND_SERVICE are fine.""",
)
def no_dangerous_capabilities(ctx: ChartContext):
    def judge(c: Container):
        if privileged(c):
            return  # a privileged container has every capability; SEC-001 reports it
        extra = [cap for cap in added(c) if cap not in BASELINE_CAPABILITIES]
        if extra:
            yield Violation(f"{c.path}.securityContext.capabilities.add",
                            f"{c.label} adds {', '.join(extra)} (beyond the Pod Security Standards baseline)",
                            {"capabilities": c.security.get("capabilities")})
    yield from container_findings(ctx, judge, linux_only=True)


# --- SEC-004 ---------------------------------------------------------------------------------------


@policy(
    id="SEC-004",
    title="Containers drop ALL capabilities",
    receives="chart",
    severity=Severity.WARNING,
    rationale="""A container keeps the runtime's default capabilities (CHOWN, DAC_OVERRIDE, FOWNER,
    NET_RAW, SETUID, SETGID, KILL ...) unless it drops them; NET_RAW alone allows spoofed packets
    on the pod network. Drop ALL and add back what is needed (the restricted Pod Security Standard).
    Kubernetes' default keeps them, so this is a hardening warning.""",
    reference=REFERENCE,
    remediation="Set securityContext.capabilities.drop: [ALL] and add back only what the container needs.",
)
def drop_all_capabilities(ctx: ChartContext):
    def judge(c: Container):
        if privileged(c):
            return  # dropping is moot for a privileged container; SEC-001 reports it
        drops = dropped(c)
        if "ALL" in drops:
            return
        what = f"{c.label} does not drop ALL capabilities" + (f" (drops only {', '.join(drops)})" if drops else "")
        yield Violation(f"{c.path}.securityContext.capabilities.drop", what,
                        {"capabilities": c.security.get("capabilities")})
    yield from container_findings(ctx, judge, linux_only=True, posture=True)


# --- SEC-005 / SEC-006 -----------------------------------------------------------------------------


def uid(container: Container) -> int | None:
    value = container.security.get("runAsUser")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@policy(
    id="SEC-005",
    title="No container runs as UID 0",
    receives="chart",
    rationale="""runAsUser: 0 makes the container's processes root: every file the container can
    reach on the node (mounts, the runtime's own) is root's, and a kernel or runtime escape lands
    as root. An explicit root UID is a grant the chart makes, so it is an error.""",
    reference=REFERENCE,
    remediation="Run the container as a non-zero UID (runAsUser) and set runAsNonRoot: true.",
)
def no_root_uid(ctx: ChartContext):
    def judge(c: Container):
        if uid(c) == 0:
            yield Violation(sc_path(c, "runAsUser"), f"{c.label} runs as root (runAsUser: 0)",
                            {"securityContext": c.security})
    yield from container_findings(ctx, judge, linux_only=True)


@policy(
    id="SEC-006",
    title="Containers run as non-root: runAsNonRoot: true or a non-zero runAsUser",
    receives="chart",
    severity=Severity.WARNING,
    rationale="""With neither runAsNonRoot: true nor a non-zero runAsUser, the image's USER decides,
    and most images default to root; runAsNonRoot: true makes the kubelet refuse to start a root
    process. Kubernetes' default allows root, so a chart that says nothing gets a warning. An explicit
    runAsUser: 0 is SEC-005's error.""",
    reference=REFERENCE,
    remediation="""Set runAsNonRoot: true in the pod (or container) securityContext, with a numeric
    runAsUser if the image's USER is not numeric.""",
)
def runs_as_non_root(ctx: ChartContext):
    def judge(c: Container):
        if c.security.get("runAsNonRoot") is True or uid(c) is not None:
            return  # guaranteed non-root, or an explicit UID (0 is SEC-005's)
        what = (f"{c.label} sets runAsNonRoot: false and no runAsUser" if c.security.get("runAsNonRoot") is False
                else f"{c.label} may run as root: neither runAsNonRoot: true nor a non-zero runAsUser is set")
        yield Violation(sc_path(c, "runAsNonRoot"), what, {"securityContext": c.security})
    yield from container_findings(ctx, judge, linux_only=True, posture=True)


# --- SEC-007 ---------------------------------------------------------------------------------------


@policy(
    id="SEC-007",
    title="Containers have a read-only root filesystem",
    receives="chart",
    severity=Severity.WARNING,
    rationale="""A writable root filesystem lets an intruder drop tools and modify the container's
    binaries and configuration. readOnlyRootFilesystem: true with emptyDir mounts where the process
    must write is the hardened form; Kubernetes' default is writable, hence a warning.""",
    reference=REFERENCE,
    remediation="""Set readOnlyRootFilesystem: true and mount an emptyDir where the container must write
    (/tmp, caches).""",
)
def read_only_root_filesystem(ctx: ChartContext):
    def judge(c: Container):
        if c.security.get("readOnlyRootFilesystem") is True:
            return
        yield Violation(sc_path(c, "readOnlyRootFilesystem"),
                        f"{c.label} has a writable root filesystem (readOnlyRootFilesystem is not true)",
                        {"securityContext": c.security})
    yield from container_findings(ctx, judge, linux_only=True, posture=True)


# --- SEC-008 / SEC-009: pod-level ------------------------------------------------------------------


@policy(
    id="SEC-008",
    title="Pods do not share the node's network, PID or IPC namespace",
    receives="chart",
    rationale="""hostNetwork exposes the node's interfaces and lets the pod bind any node port;
    hostPID lets it see, signal and trace every process on the node; hostIPC shares the node's
    shared memory. Node agents (a node exporter, a CNI) legitimately need some of these, and carry
    a waiver saying so; nothing else should.""",
    reference=REFERENCE,
    remediation="Remove hostNetwork, hostPID and hostIPC from the pod spec.",
)
def no_host_namespaces(ctx: ChartContext):
    def judge(pod: PodSpec):
        for key, what in HOST_NAMESPACES.items():
            if pod.spec.get(key) is True:
                yield Violation(f"{pod.path}.{key}", f"the pod shares the node's {what} ({key}: true)", {key: True})
    yield from pod_findings(ctx, judge)


@policy(
    id="SEC-009",
    title="Pods mount no hostPath volume",
    receives="chart",
    rationale="""A hostPath volume reaches outside the pod into the node's filesystem: writable,
    it can change the node (or the container runtime through its socket); even read-only it can
    read other pods' data and credentials. emptyDir, ConfigMap/Secret, PVC or CSI volumes cover
    application needs; node agents that read /proc or /sys carry a waiver.""",
    reference=REFERENCE,
    remediation="Use an emptyDir, ConfigMap/Secret, PersistentVolumeClaim or CSI volume instead of the hostPath.",
)
def no_host_path_volumes(ctx: ChartContext):
    def judge(pod: PodSpec):
        for i, volume in enumerate(pod.spec.get("volumes") or []):
            host = volume.get("hostPath") if isinstance(volume, dict) else None
            if not isinstance(host, dict):
                continue
            name = volume.get("name")
            mounts = [f"{c.name} ({'read-only' if m.get('readOnly') is True else 'writable'})"
                      for c in pod.containers for m in c.body.get("volumeMounts") or []
                      if isinstance(m, dict) and m.get("name") == name]
            yield Violation(f"{pod.path}.volumes[{i}].hostPath",
                            f"volume '{name}' mounts the node's {host.get('path')!r} (hostPath"
                            + (f", type {host['type']}" if host.get("type") else "") + ")"
                            + (f", mounted by {', '.join(mounts)}" if mounts else ""),
                            volume, ("volume", name))
    yield from pod_findings(ctx, judge)


# --- SEC-017 ---------------------------------------------------------------------------------------

CONFINING_PROFILES = ("RuntimeDefault", "Localhost")


@policy(
    id="SEC-017",
    title="Containers run under the RuntimeDefault (or a Localhost) seccomp profile",
    receives="chart",
    severity=Severity.WARNING,
    rationale="""Without a seccomp profile a container may make every system call the kernel offers,
    including the rarely used ones most kernel exploits go through; RuntimeDefault blocks those and
    breaks almost nothing (the restricted Pod Security Standard). Kubernetes runs a container
    Unconfined unless the pod or container sets seccompProfile, so a chart that says nothing gets a
    warning. Privileged containers are SEC-001's.""",
    reference=REFERENCE,
    remediation="Set securityContext.seccompProfile.type: RuntimeDefault on the pod.",
)
def seccomp_runtime_default(ctx: ChartContext):
    def judge(c: Container):
        if privileged(c):
            return  # seccomp does not confine a privileged container; SEC-001 reports it
        profile = c.security.get("seccompProfile")
        kind = profile.get("type") if isinstance(profile, dict) else None
        if kind in CONFINING_PROFILES:
            return
        what = (f"{c.label} runs Unconfined (seccompProfile.type: {kind})" if kind
                else f"{c.label} sets no seccomp profile (Kubernetes runs it Unconfined)")
        yield Violation(sc_path(c, "seccompProfile"), what, {"securityContext": c.security})
    yield from container_findings(ctx, judge, linux_only=True, posture=True)


# --- SEC-020 ---------------------------------------------------------------------------------------


@policy(
    id="SEC-020",
    title="Containers bind no hostPort",
    receives="chart",
    rationale="""A hostPort opens the port on the node's own address, past every NetworkPolicy of the
    pod network, and fails the Pod Security Standards baseline; each node can run one such pod per
    port. A Service (NodePort or LoadBalancer) exposes a port without it. A pod on the host network
    binds the node's ports anyway: SEC-008 reports that, once.""",
    reference=REFERENCE,
    remediation="Drop hostPort and expose the port with a Service.",
)
def no_host_ports(ctx: ChartContext):
    def judge(c: Container):
        if c.pod.spec.get("hostNetwork") is True:
            return  # the host network's ports are SEC-008's finding
        for i, port in enumerate(c.body.get("ports") or []):
            host = port.get("hostPort") if isinstance(port, dict) else None
            if host not in (None, 0, "0", ""):
                yield Violation(f"{c.path}.ports[{i}].hostPort",
                                f"{c.label} binds hostPort {host} (containerPort {port.get('containerPort')})",
                                port, ("hostPort", *keyed(port)))
    yield from container_findings(ctx, judge)
