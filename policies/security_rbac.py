"""RBAC and ServiceAccount tokens (SEC-013 ... SEC-016, SEC-018, SEC-019), judged across every planned
scenario that rendered, each defect reported once with the scenarios that show it.

Roles are judged on their own (a wildcard or an escalation verb is a defect wherever the role is
bound); cluster-wide Secret reads and unneeded tokens depend on the bindings of the same render,
so those two are judged render by render.
"""

from __future__ import annotations

from typing import Iterator

from chartgate import Applicability, ChartContext, NotApplicable, Severity, policy
from chartgate.lib.podspec import Problem, account_switches, chart_view, report_once
from chartgate.lib.rules import accept_hint
from chartgate.lib.selectors import matches

REFERENCE = "docs/policies.md#sec"
RBAC_GROUP = "rbac.authorization.k8s.io"
READ_VERBS = frozenset({"get", "list", "watch", "*"})
# Built-in ClusterRoles (the API server's bootstrap policy) that read Secrets in every namespace
# when bound by a ClusterRoleBinding; `view` deliberately does not.
BUILTIN_SECRET_READERS = frozenset({"cluster-admin", "admin", "edit"})
# Subjects a ServiceAccount is a member of, besides itself.
ALL_SERVICE_ACCOUNTS = "system:serviceaccounts"


def strings(value) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def rules(role) -> Iterator[tuple[int, dict, list[str], list[str], list[str]]]:
    """(index, rule, apiGroups, resources, verbs) of a role's resource rules (nonResourceURLs-only
    rules grant URL paths such as /metrics and are not judged here)."""
    for i, rule in enumerate(role.body.get("rules") or []):
        if isinstance(rule, dict) and (rule.get("resources") or not rule.get("nonResourceURLs")):
            yield i, rule, strings(rule.get("apiGroups")), strings(rule.get("resources")), strings(rule.get("verbs"))


def show(groups: list[str], resources: list[str], verbs: list[str]) -> str:
    return f"apiGroups {groups or ['']}, resources {resources}, verbs {verbs}"


def roles(ctx: ChartContext):
    view = chart_view(ctx)
    found = view.rbac("Role", "ClusterRole")
    if not found:
        raise NotApplicable("no planned scenario renders a Role or ClusterRole")
    return view, found


# --- SEC-013 ---------------------------------------------------------------------------------------


def wildcard(groups: list[str], resources: list[str], verbs: list[str]) -> list[str]:
    """Which of apiGroups, resources and verbs of a rule hold a '*'."""
    return [name for name, values in (("apiGroups", groups), ("resources", resources), ("verbs", verbs))
            if any("*" in v for v in values)]


def cluster_bindings(view) -> dict[str, list[str]]:
    """ClusterRole name -> the ClusterRoleBindings (of any scenario) that bind it in every namespace."""
    found: dict[str, list[str]] = {}
    for binding in view.rbac("ClusterRoleBinding"):
        ref = binding.manifest.body.get("roleRef") or {}
        names = found.setdefault(str(ref.get("name") or ""), [])
        if ref.get("kind", "ClusterRole") == "ClusterRole" and binding.manifest.name not in names:
            names.append(binding.manifest.name)
    return found


@policy(
    id="SEC-013",
    title="Roles grant no wildcard verbs, resources or API groups",
    rationale="""A wildcard grants every present and future resource or verb: Secrets, `escalate`,
    `impersonate`, and whatever a later Kubernetes version or CRD adds. Wildcard resources and verbs
    within the API groups of CRDs the chart itself ships (an operator managing its own API) are not
    reported; a wildcard API group always is. One finding per role, listing its wildcard rules; when
    such a rule reads Secrets and a ClusterRoleBinding binds the role, the finding names SEC-015 too
    (one defect, reported here once).""",
    reference=REFERENCE,
    receives="chart",
    applies_to=Applicability(kinds=("Role", "ClusterRole")),
    remediation="""List the resources and verbs the workload uses instead of '*': a wildcard also grants
    whatever is added later.""",
)
def no_rbac_wildcards(ctx: ChartContext):
    view, found = roles(ctx)
    own = view.crd_groups
    bound = cluster_bindings(view)

    def problems() -> Iterator[Problem]:
        for seen in found:
            wild, secrets = [], False
            for i, rule, groups, resources, verbs in rules(seen.manifest):
                what = wildcard(groups, resources, verbs)
                if what and ("apiGroups" in what or not groups or not all(g in own for g in groups)):
                    wild.append((i, rule, f"rules[{i}]: {' and '.join(what)} ({show(groups, resources, verbs)})"))
                    secrets = secrets or bool(reads_secrets(rule, groups, resources, verbs))
            if not wild:
                continue
            bindings = bound.get(seen.manifest.name, []) if seen.manifest.kind == "ClusterRole" else []
            also = (f"; ClusterRoleBinding {', '.join(bindings)} binds it in every namespace, so its subjects "
                    "read every Secret of the cluster (SEC-015 too)" if secrets and bindings else "")
            yield Problem(seen.manifest, seen.scenarios, f"$.rules[{wild[0][0]}]",
                          f"grants '*' in {'; '.join(text for _, _, text in wild)}{also}",
                          accept_hint(ctx, seen.manifest),
                          [rule for _, rule, _ in wild], ("wildcards",))
    yield from report_once(problems(), view.scenarios)


# --- SEC-014 ---------------------------------------------------------------------------------------


def escalation_verbs(groups: list[str], resources: list[str], verbs: list[str]) -> list[str]:
    """Which of escalate / bind / impersonate a rule grants on the resources they act on."""
    groups_set, resources_set, verbs_set = set(groups), set(resources), set(verbs)
    found = []
    if groups_set & {RBAC_GROUP, "*"} and resources_set & {"roles", "clusterroles", "*"}:
        found += [verb for verb in ("escalate", "bind") if verb in verbs_set]
    if "impersonate" in verbs_set and (
            (groups_set & {"", "*"} and resources_set & {"users", "groups", "serviceaccounts", "*"})
            or (groups_set & {"authentication.k8s.io", "*"}
                and any(r in ("uids", "*") or r.startswith("userextras") for r in resources))):
        found.append("impersonate")
    return found


@policy(
    id="SEC-014",
    title="Roles grant no escalate, bind or impersonate",
    rationale="""`escalate` lets a subject create or change roles with permissions it does not hold,
    `bind` lets it bind any role to anyone, `impersonate` lets it act as any user, group or
    ServiceAccount: each is a path to cluster-admin. A rule restricted with resourceNames (the roles
    an operator manages) is the documented safe form and is not reported; wildcard verbs are
    SEC-013's. One finding per role, listing its rules.""",
    reference=REFERENCE,
    receives="chart",
    applies_to=Applicability(kinds=("Role", "ClusterRole")),
    remediation="Drop the verbs, or restrict the rule with resourceNames to the roles it manages.",
)
def no_escalation_verbs(ctx: ChartContext):
    view, found = roles(ctx)

    def problems() -> Iterator[Problem]:
        for seen in found:
            granted = [(i, rule, f"rules[{i}]: {', '.join(verbs_)} ({show(groups, resources, verbs)})")
                       for i, rule, groups, resources, verbs in rules(seen.manifest)
                       for verbs_ in [[] if rule.get("resourceNames") else escalation_verbs(groups, resources, verbs)]
                       if verbs_]
            if granted:
                yield Problem(seen.manifest, seen.scenarios, f"$.rules[{granted[0][0]}].verbs",
                              f"grants {'; '.join(text for _, _, text in granted)}",
                              accept_hint(ctx, seen.manifest),
                              [rule for _, rule, _ in granted], ("escalation",))
    yield from report_once(problems(), view.scenarios)


# --- SEC-015 ---------------------------------------------------------------------------------------


def reads_secrets(rule: dict, groups: list[str], resources: list[str], verbs: list[str]) -> list[str]:
    """The read verbs a rule grants on every Secret (none when restricted by resourceNames)."""
    if rule.get("resourceNames") or not set(groups) & {"", "*"} or not set(resources) & {"secrets", "*"}:
        return []
    return [v for v in verbs if v in READ_VERBS]


def subjects(binding) -> list[str]:
    shown = []
    for s in binding.body.get("subjects") or []:
        if isinstance(s, dict):
            ns = f"{s['namespace']}/" if s.get("namespace") else ""
            shown.append(f"{s.get('kind')} {ns}{s.get('name')}")
    return shown


def secret_reads(role, cluster_roles: dict) -> list[str]:
    """`rules[i]: get, list` for each rule of a ClusterRole (or of the ClusterRoles it aggregates)
    that reads every Secret by name - wildcard rules are SEC-013's finding, which names SEC-015."""
    found = [f"rules[{i}]: {', '.join(verbs)}" for i, rule, g, r, v in rules(role)
             for verbs in [reads_secrets(rule, g, r, v)] if verbs and not wildcard(g, r, v)]
    aggregation = role.body.get("aggregationRule")
    if isinstance(aggregation, dict):
        for selector in aggregation.get("clusterRoleSelectors") or []:
            for other in cluster_roles.values():
                if other is not role and isinstance(selector, dict) and matches(selector, other.labels):
                    found += [f"{other.name} (aggregated) {read}" for read in secret_reads(other, {})]
    return found


def union(into: list, items) -> None:
    into.extend(item for item in items if item not in into)


@policy(
    id="SEC-015",
    title="No ClusterRoleBinding grants reading Secrets cluster-wide",
    rationale="""A ClusterRoleBinding to a ClusterRole that can get, list or watch Secrets lets its
    subjects read every Secret of every namespace: tokens, TLS keys, passwords. A compromised pod
    of that ServiceAccount is then a compromised cluster. Grant Secret access with a Role and
    RoleBinding in the namespaces that need it, or restrict the rule with resourceNames. Controllers
    that really watch Secrets everywhere (ingress controllers, cert-manager) carry a waiver. One
    finding per binding, naming every subject any scenario gives it; a wildcard rule that reads
    Secrets is reported once, by SEC-013.""",
    reference=REFERENCE,
    receives="chart",
    applies_to=Applicability(kinds=("ClusterRoleBinding",)),
    remediation="""Grant Secret access with a Role and RoleBinding in the namespaces that need Secrets, or
    restrict the rule with resourceNames.""",
)
def no_cluster_wide_secret_reads(ctx: ChartContext):
    view = chart_view(ctx)
    merged: dict[str, dict] = {}  # binding resource id -> what every scenario shows of it
    for names, index in view.renders:
        cluster_roles = {m.name: m for m, _ in index.rbac if m.kind == "ClusterRole"}
        for binding, _ in index.rbac:
            ref = binding.body.get("roleRef") or {}
            name = str(ref.get("name") or "")
            if binding.kind != "ClusterRoleBinding" or ref.get("kind", "ClusterRole") != "ClusterRole":
                continue
            role = cluster_roles.get(name)
            reads = secret_reads(role, cluster_roles) if role is not None else (
                ["built-in: reads every Secret"] if name in BUILTIN_SECRET_READERS else [])
            if reads:
                entry = merged.setdefault(binding.resource_id, {"binding": binding, "ref": ref, "role": name,
                                                                "reads": [], "subjects": [], "scenarios": []})
                union(entry["reads"], reads)
                union(entry["subjects"], subjects(binding))
                union(entry["scenarios"], names)
    if not any(m.kind == "ClusterRoleBinding" for _, index in view.renders for m, _ in index.rbac):
        raise NotApplicable("no planned scenario renders a ClusterRoleBinding")
    yield from report_once((
        Problem(e["binding"], tuple(e["scenarios"]), "$.roleRef",
                f"binds ClusterRole '{e['role']}' ({'; '.join(e['reads'])}) in every namespace to "
                f"{', '.join(e['subjects']) or 'no subject'}",
                accept_hint(ctx, e["binding"]),
                e["ref"], ("roleRef",))
        for e in merged.values()), view.scenarios)


# --- SEC-016 ---------------------------------------------------------------------------------------


def bound_accounts(index) -> tuple[set[tuple[str, str]], set[str], bool]:
    """ServiceAccounts some RoleBinding/ClusterRoleBinding of the render names: (namespace, name)
    pairs, whole namespaces (group system:serviceaccounts:<ns>), and whether all of them are bound."""
    accounts, namespaces, everyone = set(), set(), False
    for binding, _ in index.rbac:
        if binding.kind not in ("RoleBinding", "ClusterRoleBinding"):
            continue
        for s in binding.body.get("subjects") or []:
            if not isinstance(s, dict):
                continue
            name = str(s.get("name") or "")
            if s.get("kind") == "ServiceAccount":
                accounts.add((str(s.get("namespace") or binding.namespace or ""), name))
            elif s.get("kind") == "Group" and name == ALL_SERVICE_ACCOUNTS:
                everyone = True
            elif s.get("kind") == "Group" and name.startswith(ALL_SERVICE_ACCOUNTS + ":"):
                namespaces.add(name.split(":", 2)[2])
    return accounts, namespaces, everyone


@policy(
    id="SEC-016",
    title="Pods mount a ServiceAccount token only when the chart grants the account something",
    receives="chart",
    severity=Severity.WARNING,
    rationale="""A mounted token is only useful to the workload if its ServiceAccount may do something;
    otherwise it only helps an intruder (to authenticate to the API server, probe for misconfigured
    RBAC, or reach services that trust the token). Criterion: the pod runs under a ServiceAccount
    the chart renders, no RoleBinding or ClusterRoleBinding of ANY planned scenario names it (or its
    namespace's group) - so a scenario that switches the chart's RBAC off (`rbac.create: false`,
    grants provided elsewhere) is not a finding - and neither the pod nor the ServiceAccount sets
    automountServiceAccountToken: false. Pods under accounts the chart does not render are not
    judged: their grants live elsewhere.""",
    reference=REFERENCE,
    remediation="Set automountServiceAccountToken: false on the pod (or the ServiceAccount).",
)
def token_only_when_needed(ctx: ChartContext):
    view = chart_view(ctx)
    bound, bound_namespaces, everyone = set(), set(), False
    for _, index in view.renders:
        accounts, namespaces, all_accounts = bound_accounts(index)
        bound |= accounts
        bound_namespaces |= namespaces
        everyone = everyone or all_accounts
    judged = False

    def problems() -> Iterator[Problem]:
        nonlocal judged
        for names, index in view.renders:
            accounts = {(m.namespace or "", m.name): m for m in index.service_accounts}
            for pod, _ in index.pods:
                key = (pod.owner.namespace or "", pod.service_account)
                account = accounts.get(key)
                if account is None:
                    continue
                judged = True
                mount = pod.spec.get("automountServiceAccountToken")
                if mount is None:
                    mount = account.body.get("automountServiceAccountToken")
                if mount is False or everyone or key in bound or key[0] in bound_namespaces:
                    continue
                yield Problem(pod.owner, names, f"{pod.path}.automountServiceAccountToken",
                              f"pods mount the token of ServiceAccount '{pod.service_account}', which no "
                              "RoleBinding or ClusterRoleBinding of the chart grants anything in any scenario",
                              accept_hint(ctx, pod.owner, "If it calls the API with grants made outside the chart"),
                              {"serviceAccountName": pod.service_account, "automountServiceAccountToken": mount})
    found = list(problems())
    if not judged:
        raise NotApplicable("no pod runs under a ServiceAccount the chart renders")
    yield from report_once(found, view.scenarios)


# --- SEC-018 ---------------------------------------------------------------------------------------

ADMISSION_GROUP = "admissionregistration.k8s.io"
WEBHOOK_CONFIGURATIONS = frozenset({"mutatingwebhookconfigurations", "validatingwebhookconfigurations"})


@policy(
    id="SEC-018",
    title="ClusterRoles update or patch admission webhook configurations only by resourceNames",
    severity=Severity.WARNING,
    rationale="""Who may update or patch any webhook configuration can point another product's
    admission webhook at itself (and see, or change, every object it admits) or switch a policy
    engine's webhook off. A controller that patches its own webhook's CA bundle names it with
    resourceNames. Wildcard rules are SEC-013's; `create` cannot be restricted by name and is not
    judged. One finding per ClusterRole, listing its rules.""",
    reference=REFERENCE,
    receives="chart",
    # Judged wherever the chart renders RBAC roles: a chart with Roles only passes (a Role cannot grant
    # the cluster-scoped webhook configurations).
    applies_to=Applicability(kinds=("Role", "ClusterRole")),
    remediation="Restrict the rule with resourceNames to the chart's own webhook configurations.",
)
def webhook_configurations_by_name(ctx: ChartContext):
    view, found = roles(ctx)

    def problems() -> Iterator[Problem]:
        for seen in found:
            if seen.manifest.kind != "ClusterRole":
                continue  # webhook configurations are cluster-scoped: a Role cannot grant them
            granted = [(i, rule, f"rules[{i}]: {show(groups, resources, verbs)}")
                       for i, rule, groups, resources, verbs in rules(seen.manifest)
                       if ADMISSION_GROUP in groups and WEBHOOK_CONFIGURATIONS & set(resources)
                       and {"update", "patch"} & set(verbs)
                       and not rule.get("resourceNames") and not wildcard(groups, resources, verbs)]
            if granted:
                yield Problem(seen.manifest, seen.scenarios, f"$.rules[{granted[0][0]}]",
                              f"may update or patch every admission webhook configuration "
                              f"({'; '.join(text for _, _, text in granted)})",
                              accept_hint(ctx, seen.manifest),
                              [rule for _, rule, _ in granted], ("webhooks",))
    yield from report_once(problems(), view.scenarios)


# --- SEC-019 ---------------------------------------------------------------------------------------


@policy(
    id="SEC-019",
    title="No binding grants a role to a namespace's default ServiceAccount",
    severity=Severity.WARNING,
    rationale="""Every pod that names no ServiceAccount runs as its namespace's `default` one, so a
    role bound to `default` goes to every such pod of the namespace, now and later. Bind the role to
    a ServiceAccount of the workload's own. One finding per binding. Judged on the scenarios that
    keep the chart's ServiceAccounts (`serviceAccount.create`) on: with `create: false` the user
    supplies the account, `default` when they name none - their choice, not the chart's.""",
    reference=REFERENCE,
    receives="chart",
    applies_to=Applicability(kinds=("RoleBinding", "ClusterRoleBinding")),
    remediation="Bind the role to a ServiceAccount the workload names, not to the namespace's `default` one.",
)
def no_default_account_grants(ctx: ChartContext):
    view = chart_view(ctx, keeping=account_switches)
    found = view.rbac("RoleBinding", "ClusterRoleBinding")
    if not found:
        raise NotApplicable("no planned scenario renders a RoleBinding or ClusterRoleBinding")

    def problems() -> Iterator[Problem]:
        for seen in found:
            binding = seen.manifest
            defaults = [f"{s.get('namespace') or binding.namespace or '<release namespace>'}/default"
                        for s in binding.body.get("subjects") or []
                        if isinstance(s, dict) and s.get("kind") == "ServiceAccount" and s.get("name") == "default"]
            if defaults:
                ref = binding.body.get("roleRef") or {}
                yield Problem(binding, seen.scenarios, "$.subjects",
                              f"grants {ref.get('kind')} '{ref.get('name')}' to the default ServiceAccount "
                              f"{', '.join(defaults)}",
                              accept_hint(ctx, binding),
                              binding.body.get("subjects"), ("default",))
    yield from report_once(problems(), view.scenarios)
