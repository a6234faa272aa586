"""Waivers: a deliberate, owned, expiring exception to a policy for one chart.

waivers.yaml:

    waivers:
      - policy: HYG-001                 # required: policy id, glob (`OBS-*`) or family (`OBS`)
        chart: bp-kserve                # required: chart name
        resource: "Deployment/*/kserve-*"   # optional glob on Kind/namespace/name
        scenario: "default"             # optional glob on the scenario name
        reason: "upstream pins by digest from v0.17"   # required
        owner: "platform-team"          # required
        expires: 2027-03-31             # required, ISO date (a day, not a time); expired waivers fail the gate

A failed result whose findings are all covered by live waivers becomes `waived`; an expired waiver
never waives and makes the gate red; a waiver that matched nothing is reported as unused.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import threading
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .chartconfig import policy_matches
from .errors import InvalidWaiver
from .policy import Outcome, Result

REQUIRED = ("policy", "chart", "reason", "owner", "expires")


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


def _entry_lines(text: str) -> list[int]:
    """1-based line of each entry under `waivers:`, from the YAML node tree."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "waivers" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def load_waivers(path: Path) -> list[Waiver]:
    from .yamlio import load_text, read_text
    from .errors import InvalidYaml
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
    waivers = []
    for i, entry in enumerate(data["waivers"]):
        where = f"{path}:{lines[i]}" if i < len(lines) else f"{path} (waivers[{i}])"
        if not isinstance(entry, dict):
            raise InvalidWaiver(f"{where}: waivers[{i}] must be a mapping with {', '.join(REQUIRED)}")
        missing = [key for key in REQUIRED if entry.get(key) in (None, "")]
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
        unknown = set(entry) - set(REQUIRED) - {"resource", "scenario"}
        if unknown:
            raise InvalidWaiver(f"{where}: waivers[{i}] has unknown keys {sorted(unknown)}")
        waivers.append(Waiver(str(entry["policy"]), str(entry["chart"]), str(entry["reason"]), str(entry["owner"]),
                              expires, str(entry.get("resource", "*")), str(entry.get("scenario", "*")), where))
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
        if result.outcome is not Outcome.FAILED:
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
