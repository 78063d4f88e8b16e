"""Migrations carry existing data forward: sites from links, one id per pull request merge."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from service.store.db import make_engine, upgrade


def test_0003_keeps_sites_and_renames_merges_with_their_evidence(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0002")
    with engine.begin() as c:
        c.execute(text("INSERT INTO people (id, name) VALUES (1, 'Ola')"))
        c.execute(text("INSERT INTO accounts (id, tracker, external_id, person_id, home_person_id) "
                       "VALUES (1, 'github', 'ola', 1, 1)"))
        for tid, key, url in ((1, "acme/shop#12", "https://github.com/acme/shop/pull/12"),
                              (2, "SHOP-7", "https://acme.atlassian.net/browse/SHOP-7")):
            c.execute(text("INSERT INTO tickets (id, source, external_id, key, project, type_name, kind, title, status, "
                           "created, updated, url, labels) VALUES (:id, 's', :key, :key, 'p', 't', 'k', '', 'open', "
                           "'2025-01-01 00:00:00', '2025-01-02 00:00:00', :url, '[]')"), {"id": tid, "key": key, "url": url})
        c.execute(text("INSERT INTO events (ticket_id, external_id, kind, at, actor_id) "
                       "VALUES (1, 'e555', 'merge', '2025-01-02 00:00:00', 1)"))
        for tid, event, rule in ((1, "e555", "merges"), (2, "acme/shop#12:e555", "merges-linked-pr")):
            c.execute(text("INSERT INTO attributions (ticket_id, role, account_id, person_id, side, event_external_id, "
                           "at, rule, explanation) VALUES (:t, 'resolve', 1, 1, 'unknown', :e, '2025-01-02 00:00:00', "
                           ":r, 'merged')"), {"t": tid, "e": event, "r": rule})

    upgrade(engine)

    with engine.connect() as c:
        assert c.execute(text("SELECT key, site FROM tickets ORDER BY id")).all() == [
            ("acme/shop#12", None), ("SHOP-7", "https://acme.atlassian.net")]
        assert c.execute(text("SELECT external_id FROM events")).scalars().all() == ["merged"]
        assert c.execute(text("SELECT event_external_id FROM attributions ORDER BY ticket_id")).scalars().all() == [
            "merged", "acme/shop#12:merged"]
    engine.dispose()
