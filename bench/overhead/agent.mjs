// The recorded function: as cheap as a function can be, so that what is measured is the recording.
export function handle(message, options) {
  return typeof message === 'string' ? message.length : options;
}

// The same, as a method of a class instance: its record keeps the instance's fields as `this`.
export class Agent {
  constructor() {
    this.name = 'helper';
    this.style = 'short';
  }

  handle(message, options) {
    return typeof message === 'string' ? message.length : options;
  }
}
