"""audit_head: the newest (seq, hash) of every audit chain, so a deleted tail or chain shows.

Existing chains get their head from their last event. Events written before this step carry a
plain sha256 chain; `gradflow audit reseal` re-hashes them with the audit key once verified.
"""

from __future__ import annotations

from peewee import Database


def apply(db: Database) -> None:
    db.execute_sql(
        "CREATE TABLE IF NOT EXISTS audit_head ("
        " chain_key VARCHAR(64) NOT NULL PRIMARY KEY,"
        " seq INTEGER NOT NULL DEFAULT 0,"
        " hash VARCHAR(64) NOT NULL,"
        " updated_at TIMESTAMP NOT NULL)")
    db.execute_sql(
        "INSERT INTO audit_head (chain_key, seq, hash, updated_at) "
        "SELECT e.chain_key, e.seq, e.hash, e.created_at FROM audit_event e "
        "JOIN (SELECT chain_key, MAX(seq) AS seq FROM audit_event GROUP BY chain_key) m "
        "  ON m.chain_key = e.chain_key AND m.seq = e.seq "
        "WHERE NOT EXISTS (SELECT 1 FROM audit_head h WHERE h.chain_key = e.chain_key)")
