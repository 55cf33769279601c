/**
 * A marker an adapter puts where a part could not be kept, with the reason: the encoder writes it as
 * `{"$type":"Unread","reason":...}`, and a replay decodes it as that plain data.
 */
export class Note {
  constructor(
    readonly type: string,
    readonly reason: string,
  ) {}
}

/** A part that could not be read without taking it from the app, or in time. */
export function unread(reason: string): Note {
  return new Note('Unread', reason);
}
