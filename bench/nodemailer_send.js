// nodemailer side of bench/send.py: N messages through a pool (pool: true) to a local sink.
// argv: port count connections; stdin: {html, text}. Prints seconds taken.
const nodemailer = require('nodemailer');
const [port, count, connections] = process.argv.slice(2).map(Number);
const { html, text } = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, pool: true,
  maxConnections: connections, maxMessages: Infinity, ignoreTLS: true });
(async () => {
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: count }, (_, i) => transport.sendMail({
    from: '"User feedback" <no-reply@fb.example.org>', to: `user${i}@example.com`,
    subject: 'User feedback Email Verification', html, text })));
  console.log(Number(process.hrtime.bigint() - t0) / 1e9);
  transport.close();
})().catch((e) => { console.error(e); process.exit(1); });
