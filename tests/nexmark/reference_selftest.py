#!/usr/bin/env python3
"""Checks reference.py: hand-computed results on tiny event files, then every
query against SQLite running the queries' SQL (the Nexmark SQL with windows
written as integer arithmetic) on a random event file full of ties and window
boundaries. Standard library only; exits non-zero on the first failure.

    python3 tests/nexmark/reference_selftest.py
"""

import os
import random
import sqlite3
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402

TMP = tempfile.mkdtemp(prefix="nexmark_selftest_")
FAILURES = []


def write(name, lines):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    return path


def P(i, name, city, state, t):
    return f"P|{i}|{name}|x@y.com|1111 2222 3333 4444|{city}|{state}|{t}|pad"


def A(i, t, expires, seller, category):
    return f"A|{i}|item|some description|10|20|{t}|{expires}|{seller}|{category}|pad"


def B(auction, bidder, price, t, extra="e"):
    return f"B|{auction}|{bidder}|{price}|Google|https://www.nexmark.com/a/b/c/item.htm?query=1|{t}|{extra}"


def expect(query, path, lines):
    got = reference.run(query, path)
    want = sorted(lines)
    if got != want:
        FAILURES.append(f"{query} on {os.path.basename(path)}:\n  got  {got}\n  want {want}")


# --- A tiny auction house, computed by hand ------------------------------------------
main = write("main.txt", [
    P(1000, "Ann A", "Boise", "ID", 1000),
    A(2000, 1000, 5000, 1000, 10),          # bids count in [1000, 5000]
    B(246, 3000, 77, 1000),                 # auction 246 = 2 * 123 (q2); no such auction
    B(2000, 3000, 100, 999),                # before auction 2000 starts: not counted
    B(2000, 3001, 500, 1000),               # at the start: counted
    P(1001, "Bob B", "Seattle", "WA", 2000),
    A(2001, 2000, 3000, 1001, 10),          # seller in WA: not q3
    B(2001, 3004, 300, 2500),
    B(2001, 3005, 300, 2400),               # price tie, earlier
    B(2001, 3006, 300, 2400),               # full tie on price and time ...
    B(2001, 3001, 300, 2400),               # ... the lowest bidder wins q9
    A(2004, 3000, 4000, 1000, 11),          # no bids: drops out of q4, q6, q9
    A(2005, 4000, 4500, 1003, 10),          # seller 1003 registers later (q3 still joins)
    B(2000, 3002, 700, 5000),               # at expires: counted, wins auction 2000
    B(2000, 3003, 900, 5001),               # after expires; max of window [0, 10000)
    B(2001, 3007, 900, 10000),              # at window end 10000 with price = that max
    P(1002, "Cat C", "Portland", "OR", 15000),
    A(2002, 16000, 20000, 1002, 11),
    A(2003, 16000, 17000, 1002, 10),
    B(2003, 3000, 51, 16500, "last"),
    B(2002, 3000, 1000, 20000),             # at expires of 2002; window [20000, 30000)
    P(1003, "Dan D", "Los Angeles", "CA", 25000),
])

expect("q0", main, [
    "246,3000,77,1000,e", "2000,3000,100,999,e", "2000,3001,500,1000,e", "2001,3004,300,2500,e",
    "2001,3005,300,2400,e", "2001,3006,300,2400,e", "2001,3001,300,2400,e",
    "2000,3002,700,5000,e", "2000,3003,900,5001,e", "2001,3007,900,10000,e",
    "2003,3000,51,16500,last", "2002,3000,1000,20000,e",
])
q1 = reference.run("q1", main)
for want in ("246,3000,69.916,1000,e", "2002,3000,908.000,20000,e", "2003,3000,46.308,16500,last",
             "2000,3002,635.600,5000,e"):
    if want not in q1:
        FAILURES.append(f"q1: {want!r} missing from {q1}")
if reference.decimal3(1331 * 908) != "1208.548" or reference.decimal3(908) != "0.908":
    FAILURES.append("q1: decimal3")
expect("q2", main, ["246,77"])
expect("q3", main, ["Ann A,Boise,ID,2000", "Cat C,Portland,OR,2003", "Dan D,Los Angeles,CA,2005"])
# finals: 2000 -> 700, 2001 -> 300, 2003 -> 51 (category 10); 2002 -> 1000 (category 11)
expect("q4", main, ["10,350", "11,1000"])  # (700 + 300 + 51) // 3 = 350
# winners by seller: 1000: 2000 (700); 1001: 2001 (300); 1002: 2003 (51 at 16500), 2002 (1000)
expect("q6", main, ["1000,700", "1001,300", "1002,525"])
# the bid at 10000 matches window [0, 10000] (boundary) and its own window [10000, 20000)
expect("q7", main, [
    "2000,900,3003,5001", "2001,900,3007,10000", "2001,900,3007,10000", "2002,1000,3000,20000",
])
# 1003 registered in window 20000 but its auction is in window 0
expect("q8", main, ["1000,Ann A,0", "1001,Bob B,0", "1002,Cat C,10000"])
expect("q9", main, [
    "2000,1000,10,700,3002", "2001,1001,10,300,3001", "2002,1002,11,1000,3000",
    "2003,1002,10,51,3000",
])

# --- q5: sliding windows, ties for the max -------------------------------------------
hop = write("hop.txt", [B(1, 9, 5, 0), B(1, 9, 5, 1999), B(2, 9, 5, 2000), B(2, 9, 5, 2001),
                        B(3, 9, 5, 9999)])
expect("q5", hop, [
    "1,2,-8000,2000",
    "1,2,-6000,4000", "2,2,-6000,4000",
    "1,2,-4000,6000", "2,2,-4000,6000",
    "1,2,-2000,8000", "2,2,-2000,8000",
    "1,2,0,10000", "2,2,0,10000",       # auction 3 has 1 there
    "2,2,2000,12000",
    "3,1,4000,14000", "3,1,6000,16000", "3,1,8000,18000",
])

# --- q11: a gap of exactly 10 s joins a session, 10 s + 1 ms splits it ----------------
sessions = write("sessions.txt", [B(1, 5, 1, 0), B(1, 6, 1, 5), B(1, 5, 1, 10000),
                                  B(1, 5, 1, 20001)])
expect("q11", sessions, ["5,2,0,20000", "5,1,20001,30001", "6,1,5,10005"])

# --- q6: 11 rows (10 PRECEDING and the current one), ordered by the winning bid's time --
rows = []
prices = [5000, 1100] + [100] * 10  # by winning-bid time; the last 11 average 190 (10 would be 100)
for k, price in enumerate(prices):
    auction = 100 + (len(prices) - k)  # auction ids in the opposite order to the times
    rows.append(A(auction, 1000 * k, 1000 * k + 500, 42, 10))
    rows.append(B(auction, 1, price, 1000 * k + 500))
    rows.append(B(auction, 1, price - 1, 1000 * k + 501))  # after expires: ignored
# seller 43: 12 winning bids at the same time; ties are ordered by auction id, so the
# first auction (price 5000) is the one that falls out of the 11 rows
for auction in range(201, 213):
    rows.append(A(auction, 6000, 8000, 43, 10))
    rows.append(B(auction, 1, 5000 if auction == 201 else 100, 7000))
expect("q6", write("q6.txt", rows), ["42,190", "43,100"])

# --- malformed input is refused ---------------------------------------------------------
try:
    reference.run("q0", write("bad.txt", ["B|1|2|3"]))
    FAILURES.append("malformed line accepted")
except SystemExit:
    pass

# --- every query against SQLite on random events ---------------------------------------
rng = random.Random(7)
events = []
for i in range(60):
    events.append(("P", 1000 + i, rng.choice(["Ann A", "Bob B"]), rng.choice(["Boise", "Kent"]),
                   rng.choice(["OR", "ID", "CA", "WA"]), rng.randrange(0, 60000, 500)))
for i in range(200):
    t = rng.randrange(0, 60000, 500)
    events.append(("A", 2000 + i, t, t + rng.randrange(0, 6000, 500), rng.randrange(1000, 1070),
                   rng.randrange(10, 15)))
for i in range(2700):
    events.append(("B", rng.randrange(1995, 2205), rng.randrange(3000, 3040),
                   rng.choice([100, 200, 300, 1000, 1001, 123456789]), rng.randrange(0, 70000, 250),
                   rng.choice(["x", "y"])))
lines = []
for e in events:
    if e[0] == "P":
        lines.append(P(e[1], e[2], e[3], e[4], e[5]))
    elif e[0] == "A":
        lines.append(A(e[1], e[2], e[3], e[4], e[5]))
    else:
        lines.append(B(e[1], e[2], e[3], e[4], e[5]))
rnd = write("random.txt", lines)

db = sqlite3.connect(":memory:")
db.executescript("""
CREATE TABLE person(id, name, city, state, dt);
CREATE TABLE auction(id, dt, expires, seller, category);
CREATE TABLE bid(seq INTEGER PRIMARY KEY, auction, bidder, price, dt, extra);
CREATE INDEX bid_auction ON bid(auction);
""")
db.executemany("INSERT INTO person VALUES (?,?,?,?,?)", [e[1:] for e in events if e[0] == "P"])
db.executemany("INSERT INTO auction VALUES (?,?,?,?,?)", [e[1:] for e in events if e[0] == "A"])
db.executemany("INSERT INTO bid(auction, bidder, price, dt, extra) VALUES (?,?,?,?,?)",
               [e[1:] for e in events if e[0] == "B"])

JOINED = """A.id = B.auction AND B.dt BETWEEN A.dt AND A.expires"""
SQL = {
    "q0": "SELECT auction, bidder, price, dt, extra FROM bid",
    "q1": "SELECT auction, bidder, printf('%d.%03d', price * 908 / 1000, price * 908 % 1000), dt, extra"
          " FROM bid",
    "q2": "SELECT auction, price FROM bid WHERE auction % 123 = 0",
    "q3": "SELECT P.name, P.city, P.state, A.id FROM auction A JOIN person P ON A.seller = P.id"
          " WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA')",
    "q4": f"""SELECT category, SUM(final) / COUNT(*) FROM (
                SELECT MAX(B.price) AS final, A.category FROM auction A, bid B WHERE {JOINED}
                GROUP BY A.id, A.category) GROUP BY category""",
    "q5": """WITH k(i) AS (VALUES (0), (1), (2), (3), (4)),
             hb AS (SELECT auction, (dt - dt % 2000) - 2000 * i AS ws FROM bid, k
                    WHERE (dt - dt % 2000) - 2000 * i > dt - 10000),
             c AS (SELECT auction, ws, COUNT(*) AS num FROM hb GROUP BY auction, ws),
             m AS (SELECT ws, MAX(num) AS maxn FROM c GROUP BY ws)
             SELECT c.auction, c.num, c.ws, c.ws + 10000 FROM c JOIN m
             ON c.ws = m.ws AND c.num >= m.maxn""",
    "q6": f"""WITH j AS (SELECT A.id, A.seller, B.price, B.dt, ROW_NUMBER() OVER (
                           PARTITION BY A.id, A.seller ORDER BY B.price DESC, B.dt ASC) AS rownum
                         FROM auction A, bid B WHERE {JOINED}),
               q AS (SELECT * FROM j WHERE rownum <= 1),
               o AS (SELECT seller, SUM(price) OVER w / COUNT(*) OVER w AS avg_price,
                            ROW_NUMBER() OVER (PARTITION BY seller ORDER BY dt DESC, id DESC) AS back
                     FROM q WINDOW w AS (PARTITION BY seller ORDER BY dt, id
                                         ROWS BETWEEN 10 PRECEDING AND CURRENT ROW))
              SELECT seller, avg_price FROM o WHERE back = 1""",
    "q7": """WITH m AS (SELECT MAX(price) AS maxprice, (dt - dt % 10000) + 10000 AS dt FROM bid
                        GROUP BY dt - dt % 10000)
             SELECT B.auction, B.price, B.bidder, B.dt FROM bid B JOIN m ON B.price = m.maxprice
             WHERE B.dt BETWEEN m.dt - 10000 AND m.dt""",
    "q8": """WITH p AS (SELECT id, name, dt - dt % 10000 AS ws FROM person GROUP BY id, name, ws),
                  a AS (SELECT seller, dt - dt % 10000 AS ws FROM auction GROUP BY seller, ws)
             SELECT p.id, p.name, p.ws FROM p JOIN a ON p.id = a.seller AND p.ws = a.ws""",
    "q9": f"""SELECT id, seller, category, price, bidder FROM (
                SELECT A.id, A.seller, A.category, B.price, B.bidder, ROW_NUMBER() OVER (
                  PARTITION BY A.id ORDER BY B.price DESC, B.dt ASC, B.bidder ASC) AS rownum
                FROM auction A, bid B WHERE {JOINED}) WHERE rownum <= 1""",
    "q11": """WITH o AS (SELECT bidder, dt, seq, CASE WHEN dt - LAG(dt) OVER (
                           PARTITION BY bidder ORDER BY dt, seq) <= 10000 THEN 0 ELSE 1 END AS new
                         FROM bid),
                  s AS (SELECT bidder, dt, SUM(new) OVER (PARTITION BY bidder ORDER BY dt, seq
                                                         ROWS UNBOUNDED PRECEDING) AS session
                        FROM o)
              SELECT bidder, COUNT(*), MIN(dt), MAX(dt) + 10000 FROM s GROUP BY bidder, session""",
}
for query, sql in SQL.items():
    want = sorted(",".join(str(v) for v in row) for row in db.execute(sql))
    got = reference.run(query, rnd)
    if not want:
        FAILURES.append(f"{query}: SQLite found nothing; the random data does not exercise it")
    if got != want:
        only_got = sorted(set(got) - set(want))[:5]
        only_want = sorted(set(want) - set(got))[:5]
        FAILURES.append(f"{query} vs SQLite: {len(got)} vs {len(want)} lines; only in reference "
                        f"{only_got}, only in SQLite {only_want}")

if FAILURES:
    for f in FAILURES:
        print("FAIL", f)
    sys.exit(1)
print(f"reference_selftest: ok ({len(SQL)} queries against SQLite, hand-computed cases)")
