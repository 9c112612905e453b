"""Validate JSON bodies Quorum sent to (or answered) Discord against Discord's
official OpenAPI description (shared/specs/discord-openapi.json).

Usage: discord_schema.py SPEC BODIES  (BODIES: one {"schema": NAME, "body": {...}} per line)
Prints one line per invalid body and exits 1 if there is any.
"""
import json
import sys

from jsonschema import Draft202012Validator

spec = json.load(open(sys.argv[1]))
validators = {}
bad = 0
count = 0
for line in open(sys.argv[2]):
    if not line.strip():
        continue
    item = json.loads(line)
    name = item["schema"]
    if name not in validators:
        validators[name] = Draft202012Validator({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": spec["components"],
            "$ref": "#/components/schemas/" + name,
        })
    count += 1
    errors = list(validators[name].iter_errors(item["body"]))
    for e in errors[:3]:
        bad += 1
        print(f"{name}: {e.message} at {list(e.absolute_path)} in {json.dumps(item['body'])[:300]}")
print(f"validated {count} bodies, {bad} errors")
sys.exit(1 if bad else 0)
