"""Waivers: a deliberate, owned, expiring exception to a policy for one chart.

waivers.yaml:

    waivers:
      - policy: HYG-001                 # required: policy id, or one family: `OBS`, `OBS-*`, `OBS-00?`
        chart: bp-kserve                # required: chart name or glob
        resource: "Deployment/*/kserve-*"   # optional glob on Kind/namespace/name
        scenario: "default"             # optional glob on the scenario name
        reason: "upstream pins by digest from v0.17"   # required
        owner: "platform-team"          # required
        expires: 2027-03-31             # required, ISO date (a day, not a time); expired waivers fail the gate

A failed result whose findings are all covered by live waivers becomes `waived`; an expired waiver
never waives and makes the gate red; a waiver that matched nothing is reported as unused.

A waiver is a reviewed exception, never a switch that turns the gate off, so these are errors naming
the file, the entry's line and the key: a policy pattern spanning families (`*`, `*-001`); a family
pattern together with a chart pattern that matches every chart (`SEC-*` on `*`); a pattern covering
a policy that cannot be waived (the render policy, `role="render"`: a chart that does not render is
fixed, or excluded with `exclude-charts` in configuration, where the reports list it - checked once
the run knows which policy that is, see `_unwaivable_error`); an expiry further ahead than
`max-waiver-days` (default 365). A chart that cannot be loaded is an `error` result, which no waiver
covers.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from chartgate.discover.chartconfig import policy_matches
from chartgate.core.errors import InvalidWaiver
from chartgate.check.definition import RENDER_ROLE, Outcome, Policy, Result

_REQUIRED = ("policy", "chart", "reason", "owner", "expires")
#: The furthest ahead an expiry may be, unless `max-waiver-days` says otherwise.
DEFAULT_MAX_DAYS = 365
# One family, literally (`SEC`), optionally followed by `-` and an id or a glob over ids (`SEC-*`).
_POLICY_PATTERN = re.compile(r"[A-Z][A-Z0-9]*(?:-[A-Za-z0-9*?\[\]!._-]+)?")


@dataclass(frozen=True)
class Waiver:
    policy: str
    chart: str
    reason: str
    owner: str
    expires: dt.date
    resource: str = "*"
    scenario: str = "*"
    source: str = ""  # file:line, for messages
    policy_source: str = ""  # file:line of its `policy:` key, for messages
    index: int = 0  # its place in the file's list

    def expired(self, today: dt.date) -> bool:
        return self.expires < today

    def covers_policy(self, policy_id: str) -> bool:
        """`policy` is an id (`OBS-001`), a glob (`OBS-*`) or a family (`OBS`)."""
        return policy_matches(policy_id, policy_id.split("-", 1)[0], self.policy)

    def covers(self, result: Result) -> bool:
        return (self.covers_policy(result.policy.id) and fnmatch.fnmatchcase(result.chart, self.chart)
                and fnmatch.fnmatchcase(result.scenario or "", self.scenario))

    def covers_resource(self, resource: str) -> bool:
        return fnmatch.fnmatchcase(resource or "", self.resource)

    def to_dict(self) -> dict:
        return {"policy": self.policy, "chart": self.chart, "resource": self.resource, "scenario": self.scenario,
                "reason": self.reason, "owner": self.owner, "expires": self.expires.isoformat(),
                "source": self.source}


def _entry_lines(text: str) -> list[tuple[int, dict[str, int]]]:
    """1-based line of each entry under `waivers:` and of each of its keys, from the YAML node tree."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "waivers" and isinstance(value, yaml.SequenceNode):
            return [(item.start_mark.line + 1,
                     {str(k.value): k.start_mark.line + 1 for k, _ in item.value}
                     if isinstance(item, yaml.MappingNode) else {}) for item in value.value]
    return []


def _matches_everything(pattern: str) -> bool:
    """A glob with no literal character (`*`, `?*`, `[a-z]*`) matches every chart name."""
    return not re.sub(r"\[[^\]]*\]|[*?]", "", pattern)


def _scope_error(policy: str, chart: str) -> tuple[str, str] | None:
    """(key, why) when a waiver's policy and chart patterns are too wide to be a reviewed exception."""
    family = policy.split("-", 1)[0]
    if not _POLICY_PATTERN.fullmatch(policy):
        return "policy", (f"policy {policy!r} must name one policy id (`SEC-001`) or one family (`SEC`, `SEC-*`); "
                          "a pattern across families waives policies nobody reviewed for this chart")
    single = not any(c in policy for c in "*?[") and policy != family
    if not single and _matches_everything(chart):
        return "chart", (f"policy {policy!r} is a family and chart {chart!r} matches every chart: name the "
                         "chart(s) (a glob with a literal part, e.g. `bp-*`) or one policy id")
    return None


def unwaivable(policy: Policy) -> bool:
    """No waiver covers the render policy: what it reports makes every other verdict on the chart
    meaningless (a chart that does not render passes with every other policy skipped)."""
    return policy.role == RENDER_ROLE


def _unwaivable_error(waivers: list[Waiver], policy_id: str) -> InvalidWaiver | None:
    """The error naming the file, line and key of the first waiver covering `policy_id`, an unwaivable
    policy; None when no waiver covers it."""
    for waiver in waivers:
        if waiver.covers_policy(policy_id):
            return InvalidWaiver(
                f"{waiver.policy_source or waiver.source}: waivers[{waiver.index}].policy: policy {waiver.policy!r} "
                f"covers {policy_id}, which cannot be waived: with it waived, a chart that does not render passes "
                "with every other policy skipped. Fix the chart, or exclude it with `exclude-charts` under "
                "[tool.chartgate] (the reports list excluded charts)")
    return None


def load_waivers(path: Path, today: dt.date | None = None, max_days: int = DEFAULT_MAX_DAYS,
                 unwaivable_ids: tuple[str, ...] = ()) -> list[Waiver]:
    """The waivers of `path`; an InvalidWaiver naming the file, the line and the key for an entry that
    is malformed, too wide, covers one of `unwaivable_ids` or expires more than `max_days` after `today`.
    (The engine learns which policy is unwaivable only from the policies it collects: WaiverBook.refuse.)"""
    from chartgate.core.yamlio import load_text, read_text
    from chartgate.core.errors import InvalidYaml
    path = Path(path)
    try:  # unreadable, not UTF-8, not YAML, an impossible date: an error naming the file and line
        text = read_text(path, what="waivers file")
        data = load_text(text, str(path))
    except InvalidYaml as exc:
        raise InvalidWaiver(str(exc)) from None
    if data is None:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("waivers"), list):
        raise InvalidWaiver(f"{path}:1: expected a mapping with a `waivers:` list")
    lines = _entry_lines(text)
    today = today or dt.date.today()
    waivers = []
    for i, entry in enumerate(data["waivers"]):
        where = f"{path}:{lines[i][0]}" if i < len(lines) else f"{path} (waivers[{i}])"

        def at(key: str) -> str:  # the key's own line, where known
            line = lines[i][1].get(key) if i < len(lines) else None
            return f"{path}:{line}" if line else where
        if not isinstance(entry, dict):
            raise InvalidWaiver(f"{where}: waivers[{i}] must be a mapping with {', '.join(_REQUIRED)}")
        missing = [key for key in _REQUIRED if entry.get(key) in (None, "")]
        if missing:
            raise InvalidWaiver(f"{where}: waivers[{i}] is missing {', '.join(missing)}; every waiver names "
                                "the policy, the chart, a reason, an owner and an expiry date")
        expires = entry["expires"]
        if isinstance(expires, dt.datetime):  # a date is a date: the waiver lasts through that whole day
            raise InvalidWaiver(f"{where}: waivers[{i}].expires must be a date like 2027-03-31, not a date and "
                                f"time ({entry['expires'].isoformat()}); write `expires: "
                                f"{entry['expires'].date().isoformat()}` (a waiver lasts through its expiry day)")
        if isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError:
                expires = None
        if not isinstance(expires, dt.date):
            raise InvalidWaiver(f"{where}: waivers[{i}].expires must be a date like 2027-03-31, "
                                f"got {entry['expires']!r}")
        unknown = set(entry) - set(_REQUIRED) - {"resource", "scenario"}
        if unknown:
            raise InvalidWaiver(f"{where}: waivers[{i}] has unknown keys {sorted(unknown)}")
        for key in ("policy", "chart"):
            if not isinstance(entry[key], str):
                raise InvalidWaiver(f"{at(key)}: waivers[{i}].{key} must be a string, got {entry[key]!r}")
        scope = _scope_error(entry["policy"].strip(), entry["chart"].strip())
        if scope:
            key, why = scope
            raise InvalidWaiver(f"{at(key)}: waivers[{i}].{key}: {why}")
        if (expires - today).days > max_days:
            raise InvalidWaiver(f"{at('expires')}: waivers[{i}].expires {expires.isoformat()} is more than {max_days} "
                                f"days ahead (the limit is `max-waiver-days` under [tool.chartgate]): a waiver is "
                                f"reviewed at least that often; set an expiry by "
                                f"{(today + dt.timedelta(days=max_days)).isoformat()} and renew it then")
        waivers.append(Waiver(entry["policy"].strip(), entry["chart"].strip(), str(entry["reason"]), str(entry["owner"]),
                              expires, str(entry.get("resource", "*")), str(entry.get("scenario", "*")), where,
                              at("policy"), i))
    for policy_id in unwaivable_ids:
        error = _unwaivable_error(waivers, policy_id)
        if error is not None:
            raise error
    return waivers


@dataclass
class WaiverBook:
    """Applies waivers to results and remembers which were used."""

    waivers: list[Waiver]
    today: dt.date = field(default_factory=dt.date.today)
    used: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def expired(self) -> list[Waiver]:
        return [w for w in self.waivers if w.expired(self.today)]

    def apply(self, result: Result) -> Result:
        """Mark `result` waived when live waivers cover every finding; note expired ones that would have."""
        if result.outcome is not Outcome.FAILED or unwaivable(result.policy):
            return result
        candidates = [(i, w) for i, w in enumerate(self.waivers) if w.covers(result)]
        live = [(i, w) for i, w in candidates if not w.expired(self.today)]
        covering: dict[int, Waiver] = {}
        for finding in result.findings:
            match = next(((i, w) for i, w in live if w.covers_resource(finding.resource)), None)
            if match is None:
                expired = [w for _, w in candidates if w.expired(self.today) and w.covers_resource(finding.resource)]
                if expired:
                    result.message = (f"waiver at {expired[0].source} expired on {expired[0].expires.isoformat()}; "
                                      "renew it (new reason and expiry) or fix the finding")
                return result
            covering[match[0]] = match[1]
        with self._lock:
            self.used.update(covering)
        first = next(iter(covering.values()))
        result.outcome = Outcome.WAIVED
        result.waiver = first.to_dict()
        return result

    def refuse(self, policy: Policy) -> None:
        """Raise InvalidWaiver when a waiver covers `policy` and it is unwaivable."""
        error = _unwaivable_error(self.waivers, policy.id) if unwaivable(policy) else None
        if error is not None:
            raise error

    def unused(self, results: list[Result], policy_ids: set[str], charts: set[str]) -> list[Waiver]:
        """Live waivers that matched nothing. A waiver whose policy and chart this run did not evaluate
        (a partial run) is not reported, unless it names a policy or chart that does not exist at all."""
        ran = {(r.policy.id, r.chart) for r in results}

        def judged(w: Waiver) -> bool:
            unknown = (not any(w.covers_policy(p) for p in policy_ids)
                       or not any(fnmatch.fnmatchcase(c, w.chart) for c in charts))
            return unknown or any(w.covers_policy(p) and fnmatch.fnmatchcase(c, w.chart) for p, c in ran)

        return [w for i, w in enumerate(self.waivers)
                if i not in self.used and not w.expired(self.today) and judged(w)]
