// The replayed function of the scale-out benchmark: 50 ms of waiting, as a run that waits on an
// LLM does, and no work, so that what is measured is how many runs the workers keep in flight.
export async function handleMessage(message) {
  await new Promise((resolve) => setTimeout(resolve, 50));
  return message.length;
}
