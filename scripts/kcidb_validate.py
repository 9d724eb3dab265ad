#!/usr/bin/env python3
"""Validate results.json files against KCIDB v5.3 (kernelci/kcidb-io).

    kcidb_validate.py RESULTS.json...

Prints one line per file ("ok FILE" or "invalid FILE: why") and exits 1
if any is invalid, 2 if one cannot be read.  The schema ships with mmrace
(scripts/kcidb/); Debian's python3-jsonschema does the checking.
"""
import json
import os
import sys

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kcidb",
                      "kcidb.v5.3.schema.json")


def main(argv=None):
    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    try:
        import jsonschema
    except ImportError:
        print("kcidb_validate.py: python3-jsonschema is not installed", file=sys.stderr)
        return 2
    with open(SCHEMA, encoding="utf-8") as f:
        validator = jsonschema.Draft202012Validator(json.load(f))
    rc = 0
    for p in paths:
        try:
            with open(p, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            print("kcidb_validate.py: cannot read %s: %s" % (p, e), file=sys.stderr)
            return 2
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if errors:
            rc = 1
            e = errors[0]
            where = "/".join(str(x) for x in e.absolute_path) or "(top)"
            print("invalid %s: %d errors; first at %s: %s" % (p, len(errors), where,
                                                             e.message[:200]))
        else:
            print("ok %s (%d tests, %d issues, %d incidents)" % (
                p, len(doc.get("tests", [])), len(doc.get("issues", [])),
                len(doc.get("incidents", []))))
    return rc


if __name__ == "__main__":
    sys.exit(main())
