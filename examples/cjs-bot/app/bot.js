class Bot {
  constructor(name) {
    this.name = name;
  }

  answer(question, context) {
    const words = question.trim().split(/\s+/).length;
    return `${this.name} (${context.locale}): you asked ${words} words about "${question}"`;
  }
}

module.exports = { Bot };
