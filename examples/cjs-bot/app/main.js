const { Bot } = require('./bot');

const bot = new Bot('helper');
for (const question of ['Where is my parcel?', 'How do I reset my password?']) {
  console.log(`  ${bot.answer(question, { locale: 'en-GB', session: { authToken: 'abc.def.ghi' } })}`);
}
