#!/usr/bin/env python3
"""Writes the deliberately messy Kuwait export fixtures/incidents/messy/kuwait-messy.csv and, next to
it, expected-fates.csv: what must become of every record (by its first physical line), so the test
can check each one. Run from the repo root; both outputs are committed. Bytes are written exactly:
UTF-8 BOM, CRLF line ends, quoted newlines, broken quotes, windows-1256 bytes."""

HEADER = "incident_id,occurred_at,category,latitude,longitude,area,description,updated_at"
# (fields as text, fate); fate is "loaded", "loaded:<flag>", "duplicate" or "reject:<reason>".
# A row given as bytes is written verbatim (fate still applies).
rows = [
    ('M-001,2026-11-20T08:00:00+03:00,theft,29.3375,48.0716,Salmiya,plain row,', "loaded"),
    ('M-002,20/11/2026 09:30,سرقة,29.3375,48.0716,Salmiya,Arabic category and dd/MM/yyyy,', "loaded"),
    ('M-003,2026-11-20T10:00:00+03:00,TRAFFIC-ACCIDENT,29.3600,47.9800,Kuwait City,"quoted, with comma",', "loaded"),
    ('M-004,2026-11-20T11:00:00+03:00,assault,29.3375,48.0716,Salmiya,"a description\r\nover two lines",', "loaded"),
    ('M-005,2026-11-20T12:00:00+03:00,theft,48.0716,29.3375,Salmiya,lat and lon swapped,', "loaded:swapped_coordinates"),
    ('M-006,2026-11-20T13:00:00+03:00,juggling without a licence,29.3375,48.0716,Salmiya,unknown category,', "loaded:unknown_category"),
    ('M-007,2026-11-20T14:00:00+03:00,theft,,,السالمية,no GPS: area name only,', "loaded"),
    ('M-008,2026-11-20T15:00:00+03:00,theft,0,0,Salmiya,(0 0) means no GPS,', "loaded"),
    (b'M-009,2026-11-20T16:00:00+03:00,\xd3\xd1\xde\xc9,29.3375,48.0716,\xc7\xe1\xd3\xc7\xe1\xe3\xed\xc9,windows-1256 bytes,', "loaded:transcoded"),
    ('M-010,1700000000,theft,29.3375,48.0716,Salmiya,epoch seconds,', "loaded"),
    ('M-011,2026-11-20T17:00:00+03:00,  Theft  ,29.3375,48.0716,  Salmiya  ,padded text,', "loaded"),
    ('M-012,2026-11-21T08:00:00+03:00,theft,29.3375,48.0716,Salmiya,first version,2026-11-21T09:00:00+03:00', "duplicate"),
    ('M-012,2026-11-21T08:00:00+03:00,theft,29.3375,48.0716,Salmiya,corrected version,2026-11-21T10:00:00+03:00', "loaded"),
    ('M-013,2026-11-21T08:00:00+03:00,theft,29.3375,48.0716,Salmiya,newest version comes first,2026-11-22T10:00:00+03:00', "loaded"),
    ('M-013,2026-11-21T08:00:00+03:00,theft,29.3375,48.0716,Salmiya,stale re-send,2026-11-21T10:00:00+03:00', "duplicate"),
    (',2026-11-21T08:00:00+03:00,theft,29.3375,48.0716,Salmiya,no id,', "reject:missing_id"),
    ('M-014,31/02/2026 10:00,theft,29.3375,48.0716,Salmiya,no such date,', "reject:bad_timestamp"),
    ('M-015,yesterday evening,theft,29.3375,48.0716,Salmiya,not a timestamp,', "reject:bad_timestamp"),
    ('M-016,2001-05-05T10:00:00+03:00,theft,29.3375,48.0716,Salmiya,before the floor,', "reject:timestamp_out_of_range"),
    ('M-017,2099-01-01T10:00:00+03:00,theft,29.3375,48.0716,Salmiya,in the future,', "reject:timestamp_out_of_range"),
    ('M-018,2026-11-21T08:00:00+03:00,,29.3375,48.0716,Salmiya,no category,', "reject:missing_category"),
    ('M-019,2026-11-21T08:00:00+03:00,theft,35.1,50.2,Salmiya,outside Kuwait either way,', "reject:bad_coordinates"),
    ('M-020,2026-11-21T08:00:00+03:00,theft,north,east,Salmiya,not numbers,', "reject:bad_coordinates"),
    ('M-021,2026-11-21T08:00:00+03:00,theft,29.3375,48.0716,Salmiya', "reject:wrong_field_count"),
    ('M-022,2026-11-21T08:00:00+03:00,theft,29.3375,48.0716,Salmiya,"closed"junk,', "reject:malformed_record"),
    ('M-023,2026-11-21T08:00:00+03:00,theft,29.3375,48.0716,Salmiya,after the broken row,', "loaded"),
    ('M-024,2026-11-21T08:00:00+03:00,theft,29.3375,48.0716,Salmiya,tab\there and a NUL\x00byte,', "loaded"),
]

out = bytearray(b"\xef\xbb\xbf" + HEADER.encode() + b"\r\n")
fates = ["line,fate"]
line = 2
for row, fate in rows:
    data = row if isinstance(row, bytes) else row.encode("utf-8")
    out += data + b"\r\n"
    fates.append(f"{line},{fate}")
    line += data.count(b"\n") + 1
open("fixtures/incidents/messy/kuwait-messy.csv", "wb").write(bytes(out))
open("fixtures/incidents/messy/expected-fates.csv", "w").write("\n".join(fates) + "\n")
print(len(rows), "records")
