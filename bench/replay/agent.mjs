// The replayed function: trivial and async, so that what is measured is the replay around it.
export async function handleMessage(message, context) {
  return message.length;
}
