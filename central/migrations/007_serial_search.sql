-- Unit search by serial walks one index in the order it lists units (serial, then newest
-- first), so a page costs the same however many units share the prefix and whenever
-- they were made (central/queries/units.py). C collation: a LIKE prefix becomes a range
-- of this index, and byte order is what an operator expects of serial numbers.
-- Depends on 004.
CREATE INDEX results_serial_order
    ON results ((lower(serial) COLLATE "C"), made_at DESC, result_id DESC);
DROP INDEX IF EXISTS results_serial_prefix;
