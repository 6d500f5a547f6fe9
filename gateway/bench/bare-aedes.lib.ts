// A bare Aedes with nothing of ours, for the "pipeline off" column of the throughput bench. It
// gets the gateway's one process-level setting that is not part of the pipeline: mqtt-packet's
// debug tracing off, which would otherwise make the engine look slower than it runs for us.
import '../src/mqtt-packet-debug-off.ts';
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const broker = await Aedes.createBroker({ concurrency: 1000 });
createServer(broker.handle).listen(Number(process.argv[2]), '127.0.0.1');
process.on('SIGTERM', () => broker.close(() => process.exit(0)));
