class Bot {
  constructor(name) {
    this.name = name;
  }

  answer(question, context) {
    const words = question.trim().split(/\s+/).length;
    return `${this.name} (${context.locale}): you asked ${words} words about "${question}"`;
  }
}

// How experiments get a bot to replay against: runner.factory in configs/simulation.yaml.
function createBot() {
  return new Bot('helper');
}

module.exports = { Bot, createBot };
