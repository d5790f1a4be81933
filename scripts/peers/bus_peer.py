"""py-queue-bus 0.1.2 as a peer for scripts/peers/interop-bus. Usage:
    python bus_peer.py PORT subscribe APP PRIORITY JOB MATCHER_JSON
    python bus_peer.py PORT publish TYPE ATTRS_JSON
    python bus_peer.py PORT ride QUEUES(comma, may be empty) DRIVE(0|1) SECONDS
`ride` runs a rider for SECONDS and prints one JSON line per handled job:
{"job": name, "attrs": {...}}; the job is pyJob.
"""
import json
import sys
import time

from py_queue_bus import Bus, Rider

port, command, *rest = sys.argv[1:]
connection = {"host": "127.0.0.1", "port": int(port), "namespace": "resque"}


def handler(name):
    def perform(attrs):
        print(json.dumps({"job": name, "attrs": attrs}), flush=True)

    return perform


jobs = {"pyJob": handler("pyJob")}

if command == "ride":
    queues, drive, seconds = rest
    rider = Rider(connection, jobs=jobs, queues=[q for q in queues.split(",") if q], timeout=1, to_drive=drive == "1")
    rider.connect()
    rider.start(blocking=False)
    time.sleep(float(seconds))
    rider.stop()
else:
    bus = Bus(connection, jobs)
    bus.connect()
    if command == "subscribe":
        app, priority, job, matcher = rest
        bus.subscribe(app, priority, job, json.loads(matcher))
    elif command == "publish":
        bus.publish(rest[0], json.loads(rest[1]))
    else:
        sys.exit(f"unknown command {command}")
