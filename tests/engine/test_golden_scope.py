"""A full run over one chart tree never claims another tree's golden files as orphans."""

from __future__ import annotations

from chartgate.compare.golden import GoldenStore


def test_undiscovered_chart_goldens_are_orphans_only_within_this_runs_chart_roots(tmp_path):
    tree_a, tree_b = tmp_path / "tree-a", tmp_path / "tree-b"
    (tree_a / "gone").mkdir(parents=True)
    tree_b.mkdir()
    store = GoldenStore(tmp_path / "golden", update=True)
    store.check("gone", "default", {"ConfigMap": {"v1": 1}}, chart_path=tree_a / "gone")
    store.check("legacy", "default", {"ConfigMap": {"v1": 1}})  # no recorded chart path: never claimed

    # A run over tree B (which never had "gone") leaves tree A's goldens alone ...
    assert store.orphans({}, set(), full_run=True, chart_roots=(tree_b,)) == []
    # ... while a full run over tree A, where "gone" was deleted, reports them.
    assert store.orphans({}, set(), full_run=True, chart_roots=(tree_a,)) == [
        tmp_path / "golden" / "gone" / "default.yaml"]
    # A partial run never reports a whole directory.
    assert store.orphans({}, set(), full_run=False, chart_roots=(tree_a,)) == []
