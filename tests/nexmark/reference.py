#!/usr/bin/env python3
"""Expected results of the Nexmark queries, by brute force over an events file.

    reference.py <query> <events-file> > expected      (query: q0..q9, q11)

The events file is what tools/nexmark_events writes (one event per line, see
include/sluice/nexmark.h, ToLine):

    P|id|name|email_address|credit_card|city|state|date_time|extra
    A|id|item_name|description|initial_bid|reserve|date_time|expires|seller|category|extra
    B|auction|bidder|price|channel|url|date_time|extra

Times are integer ms since the epoch. The output is one line per result row,
fields joined by ',', integers in decimal, and the lines sorted as Python sorts
str (byte order for this ASCII data: the same as `LC_ALL=C sort`), so that a
streaming job's output compares after `LC_ALL=C sort`. Duplicate rows are
kept (a multiset). Standard library only; independent of the C++ generator.

Semantics: those of the reference SQL (nexmark/nexmark,
nexmark-flink/src/main/resources/queries/qN.sql, views person/auction/bid)
over the whole bounded input. The watermark (dateTime - 4 s) only decides
lateness; the generated timeline never goes back, so nothing is late and
every window fires by the end of the input. Where the SQL's result is an
updating table (q4, q6, q9) the expected lines are its final state after all
events. Windows are aligned to the epoch (offset 0) and half-open:
[start, start + size). Joins are over all events regardless of arrival order.

q0  pass-through. Every bid: auction,bidder,price,date_time,extra
q1  currency conversion. Every bid: auction,bidder,euros,date_time,extra with
    euros = 0.908 * price as DECIMAL(23,3), exact: price*908 thousandths
    printed as <int>.<3 digits> (e.g. price 1331 -> 1208.548).
q2  selection. Bids with auction % 123 == 0: auction,price
q3  local item suggestion. Regular inner join of auctions with category == 10
    and persons with state in (OR, ID, CA) on auction.seller == person.id, in
    either arrival order: name,city,state,auction_id (one line per pair).
q4  average price per category. Per auction A (an auction event), final =
    max(B.price) over bids B with B.auction == A.id and
    A.date_time <= B.date_time <= A.expires (BETWEEN: both ends inclusive);
    auctions with no such bid drop out (inner join). Per category, the average
    of those finals as BIGINT: sum // count, truncating (Flink's AVG(BIGINT)
    is sum / count in BIGINT). Final value per category: category,avg
q5  hot items. HOP windows slide 2 s, size 10 s: a bid at t belongs to the 5
    windows [s, s + 10000) with s a multiple of 2000 and t - 10000 < s <= t.
    Per window the bid count per auction; the rows whose count is >= the
    window's max count (ties: all of them): auction,num,window_start,window_end
q6  average selling price per seller. Per auction A, the winning bid among
    bids with B.auction == A.id and A.date_time <= B.date_time <= A.expires:
    highest price, ties to the earliest date_time (ROW_NUMBER ... ORDER BY
    price DESC; any tied bid has the same price, the tie only moves the row's
    time). Per seller, these rows ordered by (winning bid's date_time,
    auction id); the SQL's OVER window is ROWS BETWEEN 10 PRECEDING AND
    CURRENT ROW, so the final value is the average over the last 11 rows
    (Q6_ROWS below; fewer if the seller has fewer), sum // count:
    seller,avg  (note: "last 10 auctions" in the SQL's comment, 11 rows in its
    code; this follows the code).
q7  highest bid. TUMBLE 10 s: maxprice per window [s, s + 10000) that has
    bids. Every bid B joined with every window W where B.price == W.maxprice
    and W.start <= B.date_time <= W.end (BETWEEN window_end - 10 s AND
    window_end: both inclusive). So a bid at exactly t = W.end (which belongs
    to the next window) also matches W if its price equals W's max, and may
    then appear twice (once for W, once for its own window):
    auction,price,bidder,date_time (one line per match).
q8  monitor new users. TUMBLE 10 s over persons grouped by (id, name, window)
    and over auctions grouped by (seller, window); joined on id == seller and
    the same window: id,name,window_start (one line per (id, name, window)).
q9  winning bids. Per auction A, the bid with B.auction == A.id and
    A.date_time <= B.date_time <= A.expires of highest price, ties to the
    earliest date_time, then the lowest bidder (the SQL leaves full ties
    open; this makes the printed row unique); auctions without bids drop out:
    id,seller,category,price,bidder
q11 user sessions. Per bidder, session windows with gap 10 s: each bid at t
    opens [t, t + 10000) and windows that overlap or touch merge (Flink's
    TimeWindow.intersects: start <= other.end and end >= other.start), so two
    consecutive bids of a bidder are in one session iff their times differ by
    <= 10000 ms. session_end = last bid's time + 10000:
    bidder,count,session_start,session_end
"""

import sys
from collections import defaultdict

Q6_ROWS = 11  # ROWS BETWEEN 10 PRECEDING AND CURRENT ROW
STATES_Q3 = ("OR", "ID", "CA")

# Field positions (after the type letter at 0).
P_FIELDS, A_FIELDS, B_FIELDS = 9, 11, 8


def events(path):
    """Yields (kind, fields) for every line, checking the field counts."""
    want = {"P": P_FIELDS, "A": A_FIELDS, "B": B_FIELDS}
    with open(path, "r", encoding="utf-8", newline="\n") as f:
        for number, line in enumerate(f, 1):
            if line.endswith("\n"):
                line = line[:-1]
            if not line:
                continue
            fields = line.split("|")
            kind = fields[0]
            if want.get(kind) != len(fields):
                raise SystemExit(f"{path}:{number}: malformed event line: {line[:80]!r}")
            yield kind, fields


def bids(path):
    """(auction, bidder, price, date_time, fields) per bid."""
    for kind, f in events(path):
        if kind == "B":
            yield int(f[1]), int(f[2]), int(f[3]), int(f[6]), f


def auctions(path):
    """(id, date_time, expires, seller, category) per auction."""
    for kind, f in events(path):
        if kind == "A":
            yield int(f[1]), int(f[6]), int(f[7]), int(f[8]), int(f[9])


def avg_bigint(total, count):
    """Flink AVG over BIGINT: sum / count in long arithmetic (truncates toward 0)."""
    q = abs(total) // count
    return q if total >= 0 else -q


def decimal3(thousandths):
    sign = "-" if thousandths < 0 else ""
    v = abs(thousandths)
    return f"{sign}{v // 1000}.{v % 1000:03d}"


def q0(path):
    return [f"{a},{b},{p},{t},{f[7]}" for a, b, p, t, f in bids(path)]


def q1(path):
    return [f"{a},{b},{decimal3(p * 908)},{t},{f[7]}" for a, b, p, t, f in bids(path)]


def q2(path):
    return [f"{a},{p}" for a, b, p, t, f in bids(path) if a % 123 == 0]


def q3(path):
    persons = defaultdict(list)  # id -> [(name, city, state)]
    sellers = []  # (seller, auction id) of category-10 auctions
    for kind, f in events(path):
        if kind == "P" and f[6] in STATES_Q3:
            persons[int(f[1])].append((f[2], f[5], f[6]))
        elif kind == "A" and int(f[9]) == 10:
            sellers.append((int(f[8]), int(f[1])))
    out = []
    for seller, auction in sellers:
        for name, city, state in persons.get(seller, ()):
            out.append(f"{name},{city},{state},{auction}")
    return out


def winners(path, with_bidder_tiebreak):
    """Per auction event (in file order): (auction tuple, best bid or None).

    Best = highest price, then earliest date_time, then (if asked) lowest
    bidder, among bids with B.auction == A.id and A.date_time <= B.date_time
    <= A.expires. Best bid is (price, date_time, bidder)."""
    by_id = defaultdict(list)  # id -> indexes into the list of auctions
    all_auctions = list(auctions(path))
    for i, a in enumerate(all_auctions):
        by_id[a[0]].append(i)
    best = [None] * len(all_auctions)
    for auction, bidder, price, t, _ in bids(path):
        for i in by_id.get(auction, ()):
            _, start, expires, _, _ = all_auctions[i]
            if start <= t <= expires:
                cur = best[i]
                key = (-price, t, bidder if with_bidder_tiebreak else 0)
                if cur is None or key < (-cur[0], cur[1], cur[2] if with_bidder_tiebreak else 0):
                    best[i] = (price, t, bidder)
    return all_auctions, best


def q4(path):
    all_auctions, best = winners(path, with_bidder_tiebreak=False)
    total, count = defaultdict(int), defaultdict(int)
    for a, b in zip(all_auctions, best):
        if b is not None:
            total[a[4]] += b[0]
            count[a[4]] += 1
    return [f"{c},{avg_bigint(total[c], count[c])}" for c in total]


def q5(path):
    counts = defaultdict(int)  # (window_start, auction) -> bids
    for auction, _, _, t, _ in bids(path):
        s = t - t % 2000
        while s > t - 10000:
            counts[(s, auction)] += 1
            s -= 2000
    most = defaultdict(int)
    for (s, _), n in counts.items():
        if n > most[s]:
            most[s] = n
    return [f"{a},{n},{s},{s + 10000}" for (s, a), n in counts.items() if n >= most[s]]


def q6(path):
    all_auctions, best = winners(path, with_bidder_tiebreak=False)
    rows = defaultdict(list)  # seller -> [(winner time, auction id, price)]
    for a, b in zip(all_auctions, best):
        if b is not None:
            rows[a[3]].append((b[1], a[0], b[0]))
    out = []
    for seller, r in rows.items():
        r.sort()
        last = [price for _, _, price in r[-Q6_ROWS:]]
        out.append(f"{seller},{avg_bigint(sum(last), len(last))}")
    return out


def q7(path):
    maxprice = {}  # window start -> max price
    for _, _, price, t, _ in bids(path):
        s = t - t % 10000
        if price > maxprice.get(s, price - 1):
            maxprice[s] = price
    out = []
    for auction, bidder, price, t, _ in bids(path):
        own = t - t % 10000
        line = f"{auction},{price},{bidder},{t}"
        if maxprice[own] == price:  # own <= t < own + 10000
            out.append(line)
        if t % 10000 == 0 and maxprice.get(t - 10000) == price:  # t == end of the previous window
            out.append(line)
    return out


def q8(path):
    persons = set()  # (id, name, window start)
    sellers = set()  # (seller, window start)
    for kind, f in events(path):
        if kind == "P":
            t = int(f[7])
            persons.add((int(f[1]), f[2], t - t % 10000))
        elif kind == "A":
            t = int(f[6])
            sellers.add((int(f[8]), t - t % 10000))
    return [f"{i},{name},{s}" for i, name, s in persons if (i, s) in sellers]


def q9(path):
    all_auctions, best = winners(path, with_bidder_tiebreak=True)
    return [
        f"{a[0]},{a[3]},{a[4]},{b[0]},{b[2]}" for a, b in zip(all_auctions, best) if b is not None
    ]


def q11(path):
    times = defaultdict(list)
    for _, bidder, _, t, _ in bids(path):
        times[bidder].append(t)
    out = []
    for bidder, ts in times.items():
        ts.sort()
        start = prev = ts[0]
        n = 0
        for t in ts:
            if t - prev > 10000:  # windows [prev, prev+gap) and [t, ...) do not touch
                out.append(f"{bidder},{n},{start},{prev + 10000}")
                start, n = t, 0
            n += 1
            prev = t
        out.append(f"{bidder},{n},{start},{prev + 10000}")
    return out


QUERIES = {
    "q0": q0, "q1": q1, "q2": q2, "q3": q3, "q4": q4, "q5": q5,
    "q6": q6, "q7": q7, "q8": q8, "q9": q9, "q11": q11,
}


def run(query, path):
    """Sorted result lines of query over the events file."""
    name = query if query.startswith("q") else "q" + query
    if name not in QUERIES:
        raise SystemExit(f"unknown query {query!r}; one of {', '.join(QUERIES)}")
    return sorted(QUERIES[name](path))


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    out = sys.stdout
    for line in run(argv[1], argv[2]):
        out.write(line)
        out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
