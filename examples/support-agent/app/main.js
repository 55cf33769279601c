// The app as it always runs. Nothing here knows about FluxLoop.
import { handleMessage } from './agent.js';

const conversations = [
  { userId: 'u-1001', message: 'Hi, can I get a refund for order 42?', channel: 'web' },
  { userId: 'u-1002', message: 'Are you open on Sunday?', channel: 'sms' },
  { userId: 'u-1001', message: 'It arrived broken.', channel: 'web' },
];

for (const request of conversations) {
  const result = await handleMessage(request, { send: (text) => console.log(`  -> ${request.userId}: ${text}`) });
  console.log(`  handled turn ${result.turn} of ${result.userId}`);
}
