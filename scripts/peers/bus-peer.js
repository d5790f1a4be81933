// node-queue-bus 0.2.1 as a peer for scripts/peers/interop-bus. Usage:
//   node bus-peer.js PORT subscribe APP PRIORITY JOB MATCHER_JSON   ("/re/i" strings become RegExps)
//   node bus-peer.js PORT publish TYPE ATTRS_JSON
//   node bus-peer.js PORT publish-in MS TYPE ATTRS_JSON
//   node bus-peer.js PORT ride QUEUES(comma, may be empty) DRIVE(0|1) MS
// `ride` runs a rider for MS milliseconds and prints one JSON line per handled job:
// {"job": name, "attrs": {...}}; jobs are nodeJob and nodeRegexJob.
const NodeQueueBus = require("node-queue-bus");

const [port, command, ...rest] = process.argv.slice(2);
const connection = { pkg: "ioredis", host: "127.0.0.1", port: Number(port), database: 0, namespace: "resque" };

function done(error) {
  if (error) {
    console.error(String(error && error.stack ? error.stack : error));
    process.exit(1);
  }
  process.exit(0);
}

function toMatcher(json) {
  const matcher = JSON.parse(json);
  for (const [key, value] of Object.entries(matcher)) {
    const regex = typeof value === "string" && value.match(/^\/(.*)\/([a-z]*)$/);
    if (regex) matcher[key] = new RegExp(regex[1], regex[2]);
  }
  return matcher;
}

const handler = (name) => ({
  perform: (attrs, callback) => {
    console.log(JSON.stringify({ job: name, attrs }));
    callback(null, name);
  },
});
const jobs = { nodeJob: handler("nodeJob"), nodeRegexJob: handler("nodeRegexJob") };

if (command === "ride") {
  const [queues, drive, ms] = rest;
  const rider = new NodeQueueBus.rider(
    { connection, queues: queues ? queues.split(",") : [], toDrive: drive === "1", timeout: 100, name: "node-peer:" + process.pid },
    jobs,
  );
  rider.on("failure", (queue, job, failure) => console.error("failure " + queue + " " + failure));
  rider.on("error", (queue, job, error) => console.error("error " + queue + " " + error));
  rider.connect(() => {
    rider.start();
    setTimeout(() => rider.end(() => done()), Number(ms));
  });
} else {
  const bus = new NodeQueueBus.bus({ connection }, jobs);
  bus.connect((error) => {
    if (error) return done(error);
    if (command === "subscribe") {
      const [app, priority, job, matcher] = rest;
      bus.subscribe(app, priority, job, toMatcher(matcher), (e) => done(e));
    } else if (command === "publish") {
      bus.publish(rest[0], JSON.parse(rest[1]), (e) => done(e));
    } else if (command === "publish-in") {
      bus.publishIn(Number(rest[0]), rest[1], JSON.parse(rest[2]), (e) => done(e));
    } else {
      done(new Error("unknown command " + command));
    }
  });
}
