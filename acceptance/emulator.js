// Start telegram-test-api on the loopback port given as the first argument; stop on SIGTERM.
const TelegramServer = require('telegram-test-api');

const port = Number(process.argv[2]);
const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout: 600 });

server.start().then(() => {
  process.stdout.write(`listening ${server.config.apiURL}\n`);
});

const stop = () => server.stop().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
