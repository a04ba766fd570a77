"""Sealed ballots: an RFC 6962 Merkle tree over the ballots of a cycle, and its offline check.

Pure Python, no Flask, no database: the web app seals with it at close, and anyone checks a
published seal with it (`python -m app.tally verify-receipt`).

The leaf of a ballot is this UTF-8 text (LEAF_FORMAT; `\\n` ends each line but the last):

    qatysu-ballot-v1
    cycle:<cycle id>
    proposals:<the chosen proposal ids, ascending, comma-separated>
    secret:<the ballot's secret code, e.g. 7KQX-3M9P-WT2R-8HZA-C4DE>

The secret code is random (100 bits), made when the ballot is first cast and shown only to
its voter, so a published leaf hash says nothing about the choices: guessing them would mean
guessing the secret. Nothing channel-specific (online or paper, who entered it) is in a leaf.

The tree (RFC 6962, section 2.1; RFC 9162 section 2.1 states the same):
    leaf hash   SHA-256(0x00 || leaf)
    node hash   SHA-256(0x01 || left || right)
    MTH(D[n])   for n > 1: k = the largest power of two smaller than n,
                SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])); MTH of no leaves is SHA-256("").
Leaves are ordered by their leaf hash (as bytes, ascending): the order reveals nothing about
who voted when. The audit path of leaf m is RFC 6962's PATH(m, D[n]), checked by RFC 9162's
algorithm (section 2.1.3.2), which `root_from_path` follows step by step.
"""

import argparse
import bisect
import hashlib
import json
import secrets
import sys

ALGORITHM = "rfc6962-sha256"
LEAF_VERSION = "qatysu-ballot-v1"
SECRET_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # as receipt codes: no 0/O, no 1/I
SECRET_GROUPS, SECRET_GROUP_LENGTH = 5, 4  # 20 symbols of 5 bits: 100 random bits
SECRET_LENGTH = SECRET_GROUPS * SECRET_GROUP_LENGTH
CYRILLIC_LOOKALIKES = str.maketrans("АВЕКМНРСТУХ", "ABEKMHPCTYX")


class SealError(ValueError):
    """A seal or a proof that cannot be read (not a failed check: that is a False answer)."""


# --- Secret codes and leaves --------------------------------------------------------------------

def new_secret():
    """A random secret code such as '7KQX-3M9P-WT2R-8HZA-C4DE' (100 bits)."""
    symbols = "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))
    return _grouped(symbols)


def _grouped(symbols):
    return "-".join(symbols[i:i + SECRET_GROUP_LENGTH] for i in range(0, SECRET_LENGTH, SECRET_GROUP_LENGTH))


def normalise_secret(text):
    """The canonical form of a typed secret code (case, spaces, dashes and Cyrillic look-alikes
    do not matter), or None when the text cannot be one."""
    if not isinstance(text, str):
        return None
    symbols = "".join(ch for ch in text.upper().translate(CYRILLIC_LOOKALIKES) if ch.isalnum())
    if len(symbols) != SECRET_LENGTH or any(ch not in SECRET_ALPHABET for ch in symbols):
        return None
    return _grouped(symbols)


def leaf_text(cycle_id, proposal_ids, secret):
    """The canonical leaf of one ballot (see the module docstring)."""
    canonical = normalise_secret(secret)
    if canonical is None:
        raise SealError(f"not a secret code: {secret!r}")
    ids = sorted({int(pid) for pid in proposal_ids})
    return (f"{LEAF_VERSION}\ncycle:{int(cycle_id)}\nproposals:{','.join(str(i) for i in ids)}\n"
            f"secret:{canonical}")


def parse_leaf(text):
    """(cycle id, [proposal ids]) from a leaf text; SealError when it is not one."""
    lines = text.split("\n")
    if len(lines) != 4 or lines[0] != LEAF_VERSION or not lines[1].startswith("cycle:") \
            or not lines[2].startswith("proposals:") or not lines[3].startswith("secret:"):
        raise SealError("not a Qatysu ballot leaf")
    try:
        cycle_id = int(lines[1][len("cycle:"):])
        listed = lines[2][len("proposals:"):]
        ids = [int(part) for part in listed.split(",")] if listed else []
    except ValueError:
        raise SealError("not a Qatysu ballot leaf") from None
    return cycle_id, ids


def leaf_hash(leaf):
    """SHA-256(0x00 || leaf) as hex; `leaf` is text (UTF-8) or bytes."""
    data = leaf.encode("utf-8") if isinstance(leaf, str) else leaf
    return hashlib.sha256(b"\x00" + data).hexdigest()


# --- The tree -------------------------------------------------------------------------------

def _node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n):
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(hashes, lo=0, hi=None):
    """MTH(D[lo:hi]) over leaf hashes (bytes), by index: no list is copied."""
    hi = len(hashes) if hi is None else hi
    if hi - lo == 1:
        return hashes[lo]
    k = _split(hi - lo)
    return _node(_mth(hashes, lo, lo + k), _mth(hashes, lo + k, hi))


def _bytes(hex_hashes):
    try:
        values = [bytes.fromhex(h) for h in hex_hashes]
    except (TypeError, ValueError):
        raise SealError("a hash is not hexadecimal") from None
    if any(len(v) != 32 for v in values):
        raise SealError("a hash is not 32 bytes (64 hexadecimal digits)")
    return values


def ordered(hex_hashes):
    """Leaf hashes in the canonical order: ascending as bytes (the same as lowercase hex)."""
    return sorted(h.lower() for h in hex_hashes)


def root(hex_hashes):
    """MTH over leaf hashes (already hashed, in order) as hex; SHA-256("") for no leaves."""
    if not hex_hashes:
        return hashlib.sha256(b"").hexdigest()
    return _mth(_bytes(hex_hashes)).hex()


def audit_path(index, hex_hashes):
    """RFC 6962 PATH(index, D[n]) over leaf hashes, as a list of hex hashes, leaf to root."""
    if not 0 <= index < len(hex_hashes):
        raise SealError(f"leaf {index} is not in a tree of {len(hex_hashes)} leaves")
    hashes = _bytes(hex_hashes)
    path, lo, hi = [], 0, len(hashes)
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append(_mth(hashes, lo + k, hi))
            hi = lo + k
        else:
            path.append(_mth(hashes, lo, lo + k))
            lo += k
    return [h.hex() for h in reversed(path)]


def root_from_path(leaf_hash_hex, index, size, path):
    """The root that a leaf hash, its index, the tree size and an audit path lead to (RFC 9162,
    2.1.3.2); None when the path cannot belong to a tree of that size."""
    if not 0 <= index < size:
        return None
    fn, sn = index, size - 1
    r = _bytes([leaf_hash_hex])[0]
    for p in _bytes(path):
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            r = _node(p, r)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return r.hex() if sn == 0 else None


def seal_of(leaf_hashes):
    """The public seal of a set of leaf hashes (GET /api/v1/cycles/<id>/seal without `cycle`)."""
    hashes = ordered(leaf_hashes)
    return {"algorithm": ALGORITHM, "root": root(hashes), "leaves": len(hashes), "leaf_hashes": hashes}


def proof_of(leaf_hash_hex, leaf_hashes):
    """{leaf_hash, index, audit_path, root, leaves} for a leaf of a seal's ordered leaf hashes
    (as `seal_of` lists them); None when the leaf is not there."""
    wanted = leaf_hash_hex.lower()
    index = bisect.bisect_left(leaf_hashes, wanted)
    if index == len(leaf_hashes) or leaf_hashes[index] != wanted:
        return None
    path = audit_path(index, leaf_hashes)
    return {"algorithm": ALGORITHM, "leaf_hash": wanted, "index": index, "audit_path": path,
            "root": root_from_path(wanted, index, len(leaf_hashes), path), "leaves": len(leaf_hashes)}


# --- The offline check: python -m app.tally verify-receipt ------------------------------------

def check_seal(seal):
    """Problems with a published seal (its root recomputed from its leaf hashes); [] when none."""
    problems = []
    if seal.get("algorithm") != ALGORITHM:
        problems.append(f"unknown algorithm {seal.get('algorithm')!r} (expected {ALGORITHM})")
    hashes = seal.get("leaf_hashes")
    if not isinstance(hashes, list):
        raise SealError("the seal has no list of leaf_hashes")
    if hashes != ordered(hashes):
        problems.append("the leaf hashes are not in ascending order")
    if seal.get("leaves") != len(hashes):
        problems.append(f"the seal says {seal.get('leaves')} leaves but lists {len(hashes)}")
    if len(set(hashes)) != len(hashes):
        problems.append("a leaf hash is listed twice")
    recomputed = root(hashes)
    if recomputed != str(seal.get("root", "")).lower():
        problems.append(f"the root of the listed leaf hashes is {recomputed}, not {seal.get('root')}")
    return problems


def check_inclusion(leaf_hash_hex, seal=None, proof=None):
    """(ok, lines): whether the leaf hash is in the seal (and the proof's path leads to its root)."""
    lines, ok = [], True
    if proof is not None:
        if str(proof.get("leaf_hash", "")).lower() != leaf_hash_hex:
            return False, [f"FAIL: the proof is for leaf hash {proof.get('leaf_hash')}, not {leaf_hash_hex}"]
        reached = root_from_path(leaf_hash_hex, int(proof.get("index", -1)), int(proof.get("leaves", 0)),
                                 proof.get("audit_path") or [])
        if reached is None or reached != str(proof.get("root", "")).lower():
            ok = False
            lines.append("FAIL: the audit path does not lead from the leaf to the proof's root")
        else:
            lines.append(f"ok: the audit path leads from leaf {proof['index']} to the root {reached}")
        if seal is not None and str(seal.get("root", "")).lower() != reached:
            ok = False
            lines.append(f"FAIL: the proof's root is not the published root {seal.get('root')}")
    if seal is not None:
        problems = check_seal(seal)
        ok = ok and not problems
        lines += [f"FAIL: {problem}" for problem in problems] or [
            f"ok: the published seal is consistent ({seal['leaves']} leaves, root {seal['root']})"]
        if leaf_hash_hex in set(seal["leaf_hashes"]):
            lines.append(f"ok: your ballot's leaf hash is in the seal: {leaf_hash_hex}")
        else:
            ok = False
            lines.append(f"FAIL: your ballot's leaf hash {leaf_hash_hex} is not in the seal")
    return ok, lines


def _load(path):
    try:
        with open(path, encoding="utf-8-sig") as handle:
            data = json.load(handle)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SealError(f"cannot read {path}: {error}") from None
    if not isinstance(data, dict):
        raise SealError(f"{path}: expected a JSON object")
    return data


def _arguments(argv):
    parser = argparse.ArgumentParser(
        prog="python -m app.tally verify-receipt",
        description="Check offline that your ballot is in a cycle's published seal. Give the seal "
                    "(seal.json from GET /api/v1/cycles/<id>/seal) and either the proof you "
                    "downloaded with your receipt (proof.json), or your choices and secret code.")
    parser.add_argument("--seal", help="the published seal (JSON)")
    parser.add_argument("--proof", help="your ballot's proof (JSON), from your receipt page")
    parser.add_argument("--cycle", type=int, help="the cycle's number (with --choices and --secret)")
    parser.add_argument("--choices", help="the ids of the projects you chose, comma-separated")
    parser.add_argument("--secret", help="your ballot's secret code, as on your receipt")
    return parser.parse_args(argv)


def _leaf_from_arguments(args, proof):
    """The leaf hash to look for, and a line saying where it came from."""
    if args.secret is not None:
        if args.cycle is None or args.choices is None:
            raise SealError("--secret needs --cycle and --choices")
        try:
            ids = [int(part) for part in args.choices.split(",") if part.strip()]
        except ValueError:
            raise SealError(f"--choices {args.choices!r}: expected ids such as 12,15") from None
        text = leaf_text(args.cycle, ids, args.secret)
        return leaf_hash(text), f"ok: leaf rebuilt from cycle {args.cycle}, choices {sorted(set(ids))} and your secret"
    if proof is None:
        raise SealError("give --proof, or --cycle, --choices and --secret")
    if proof.get("leaf"):
        cycle_id, ids = parse_leaf(proof["leaf"])
        hashed = leaf_hash(proof["leaf"])
        if hashed != str(proof.get("leaf_hash", "")).lower():
            raise SealError("the proof's leaf does not hash to its leaf_hash")
        return hashed, f"ok: the proof's leaf (cycle {cycle_id}, choices {ids}) hashes to {hashed}"
    return str(proof.get("leaf_hash", "")).lower(), "note: the proof carries no leaf; checking its leaf hash"


def verify_receipt_main(argv):
    args = _arguments(argv)
    try:
        seal = _load(args.seal) if args.seal else None
        proof = _load(args.proof) if args.proof else None
        if proof is not None and isinstance(proof.get("proof"), dict):
            proof = proof["proof"]  # a receipt check (GET /api/v1/receipts/<code>) holds one
        hashed, origin = _leaf_from_arguments(args, proof)
        if seal is None and proof is None:
            raise SealError("give --seal (and --proof, or --cycle/--choices/--secret)")
        ok, lines = check_inclusion(hashed, seal=seal, proof=proof)
    except (SealError, ValueError, TypeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in [origin] + lines:
        print(line)
    if seal is None:
        print("note: compare the root with the one published for the cycle (its seal and checksum)")
    print("RESULT: your ballot is in the seal" if ok else "RESULT: the check FAILED", file=sys.stderr)
    return 0 if ok else 1
