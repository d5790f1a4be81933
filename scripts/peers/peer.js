// A small node-resque driver for the interop and benchmark scripts: one command per run,
// its answer as JSON on stdout. Usage: node peer.js PORT COMMAND ARGS...
"use strict";
const { Queue, Worker, MultiWorker } = require("node-resque");

const [port, command, ...args] = process.argv.slice(2);
const connection = { host: "127.0.0.1", port: Number(port), namespace: "resque" };

async function withQueue(fn) {
  const queue = new Queue({ connection });
  queue.on("error", (e) => console.error("queue error", e));
  await queue.connect();
  try {
    return await fn(queue);
  } finally {
    await queue.end();
  }
}

// Runs a node-resque worker on `queueName` until `count` jobs succeeded (or `timeoutMs`).
async function work(queueName, count, timeoutMs) {
  const seen = [];
  const jobs = { sendEmail: { perform: async (...a) => { seen.push(a); return "ok"; } },
                 noop: { perform: async () => null } };
  const worker = new Worker({ connection, queues: [queueName], timeout: 5 }, jobs);
  worker.on("error", (e) => console.error("worker error", e));
  await worker.connect();
  let done = 0;
  const started = process.hrtime.bigint();
  const finished = new Promise((resolve) => {
    worker.on("success", () => { if (++done >= count) resolve(true); });
    worker.on("failure", (q, job, err) => console.error("failure", err));
    setTimeout(() => resolve(false), timeoutMs);
  });
  worker.start();
  const ok = await finished;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await worker.end();
  return { ok, done, seconds, args: seen.slice(0, 5) };
}

// Drains `count` queued sendEmail jobs the way a node-resque app would: a MultiWorker
// (node-resque's own answer to "many jobs waiting on I/O": 1..maxTaskProcessors workers in
// one process, added while the event loop keeps up) whose job sends through one pooled
// nodemailer transport to the SMTP server on `smtpPort`. Times from start to the last success.
async function workEmail(count, smtpPort, maxProcessors, poolSize, timeoutMs) {
  const nodemailer = require("nodemailer");
  const transport = nodemailer.createTransport({
    host: "127.0.0.1", port: smtpPort, secure: false, ignoreTLS: true,
    pool: true, maxConnections: poolSize, maxMessages: Infinity,
  });
  const jobs = {
    sendEmail: {
      perform: async ({ to, subject, text }) => {
        const info = await transport.sendMail({ from: "offload <offload@localhost>", to, subject, text });
        return info.messageId;
      },
    },
  };
  const multi = new MultiWorker(
    { connection, queues: ["emailQueue"], minTaskProcessors: 1, maxTaskProcessors: maxProcessors },
    jobs,
  );
  multi.on("error", (e) => console.error("worker error", e));
  let done = 0;
  let failed = 0;
  const started = process.hrtime.bigint();
  const finished = new Promise((resolve) => {
    multi.on("success", () => { if (++done >= count) resolve(true); });
    multi.on("failure", (id, q, job, err) => { failed++; console.error("failure", err); });
    setTimeout(() => resolve(false), timeoutMs);
  });
  multi.start();
  const ok = await finished;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await multi.end();
  transport.close();
  return { ok, done, failed, seconds };
}

const commands = {
  enqueue: ([q, cls, json]) => withQueue((queue) => queue.enqueue(q, cls, JSON.parse(json))),
  "enqueue-in": ([ms, q, cls, json]) => withQueue((queue) => queue.enqueueIn(Number(ms), q, cls, JSON.parse(json))),
  length: ([q]) => withQueue((queue) => queue.length(q)),
  failed: () => withQueue((queue) => queue.failed(0, -1)),
  "retry-failed": () =>
    withQueue(async (queue) => {
      let retried = 0;
      for (const entry of await queue.failed(0, -1)) {
        await queue.retryAndRemoveFailed(entry); // throws unless the entry's bytes round-trip
        retried++;
      }
      return retried;
    }),
  workers: () => withQueue(async (queue) => ({ workers: await queue.workers(), working: await queue.allWorkingOn() })),
  work: ([q, count, timeoutMs]) => work(q, Number(count), Number(timeoutMs)),
  "work-email": ([count, smtpPort, maxProcessors, poolSize, timeoutMs]) =>
    workEmail(Number(count), Number(smtpPort), Number(maxProcessors), Number(poolSize), Number(timeoutMs)),
  // Benchmarks: enqueue N jobs one by one, then time a worker draining them.
  "bench-enqueue": ([q, n]) =>
    withQueue(async (queue) => {
      const started = process.hrtime.bigint();
      for (let i = 0; i < Number(n); i++) await queue.enqueue(q, "noop", [i]);
      return { seconds: Number(process.hrtime.bigint() - started) / 1e9 };
    }),
  // The same N enqueues with `inFlight` pending at a time: each lane starts the next job as
  // its last one finishes, as concurrent web requests would.
  "bench-enqueue-concurrent": ([q, n, inFlight]) =>
    withQueue(async (queue) => {
      let next = 0;
      const lane = async () => {
        while (next < Number(n)) await queue.enqueue(q, "noop", [next++]);
      };
      const started = process.hrtime.bigint();
      await Promise.all(Array.from({ length: Number(inFlight) }, lane));
      return { seconds: Number(process.hrtime.bigint() - started) / 1e9 };
    }),
};

(async () => {
  const run = commands[command];
  if (!run) throw new Error(`unknown command ${command}`);
  console.log(JSON.stringify(await run(args)));
  process.exit(0);
})().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
