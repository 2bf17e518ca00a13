// Runs fauxqs (the SQS-compatible test server) on 127.0.0.1 only: its own CLI
// binds 0.0.0.0. Usage: node fauxqs-loopback.mjs INSTALL_DIR PORT
import { pathToFileURL } from "node:url";

const [dir, port] = process.argv.slice(2);
const load = (p) => import(pathToFileURL(`${dir}/node_modules/fauxqs/dist/${p}`).href);
const { buildApp } = await load("app.js");
const { SqsStore } = await load("sqs/sqsStore.js");
const { SnsStore } = await load("sns/snsStore.js");
const { S3Store } = await load("s3/s3Store.js");
const app = buildApp({
  logger: false,
  host: `127.0.0.1:${port}`,
  stores: { sqsStore: new SqsStore(), snsStore: new SnsStore(), s3Store: new S3Store() },
});
await app.listen({ port: Number(port), host: "127.0.0.1" });
console.log(`fauxqs on 127.0.0.1:${port}`);
