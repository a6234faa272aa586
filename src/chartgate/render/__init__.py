"""Render: each scenario through the real Helm once (memo, disk cache, pool); hands `Render` on."""
