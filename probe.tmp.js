const { zipSync, strToU8 } = require('fflate');
const { FileSandbox } = require('./dist/src/agent/file-sandbox.js');
const { LocalAnalyzer } = require('./dist/src/agent/local-analyzer.js');
const { Document, Packer, Paragraph } = require('docx');
(async () => {
  const base = Buffer.from(await Packer.toBuffer(new Document({ sections: [{ children: [new Paragraph('Acme hired 250 engineers in Berlin in 2022.')] }] })));
  const { unzipSync } = require('fflate');
  const parts = unzipSync(base);
  const sb = new FileSandbox({ memoryMb: Number(process.argv[2] || 256), timeoutMs: 60000 });
  let t = Date.now();
  let r = await sb.analyze(new LocalAnalyzer(), 'hi', [{ fileName: 'a.docx', bytes: base }]);
  console.log('normal', Date.now() - t, r.summary);
  // honest bomb
  const doc = new TextDecoder().decode(parts['word/document.xml']);
  const filler = 'All work and no play makes Jack a dull boy. '.repeat(Math.ceil(100e6 / 44));
  const bomb = doc.replace('Acme hired 250 engineers in Berlin in 2022.', filler);
  t = Date.now();
  const z = zipSync({ ...parts, 'word/document.xml': strToU8(bomb) }, { level: 9 });
  console.log('zip build', Date.now() - t, z.length);
  t = Date.now();
  await sb.analyze(new LocalAnalyzer(), 'hi', [{ fileName: 'b.docx', bytes: z }]).catch((e) => console.log('bomb', Date.now() - t, e.name, e.message));
  // lying bomb
  const buf = Buffer.from(z);
  let off = buf.indexOf(Buffer.from('PK\x01\x02', 'latin1'));
  while (off >= 0) { const n = buf.readUInt16LE(off + 28); const name = buf.toString('utf8', off + 46, off + 46 + n); if (name === 'word/document.xml') { buf.writeUInt32LE(2000, off + 24); console.log('patched'); } off = buf.indexOf(Buffer.from('PK\x01\x02', 'latin1'), off + 4); }
  t = Date.now();
  await sb.analyze(new LocalAnalyzer(), 'hi', [{ fileName: 'c.docx', bytes: buf }]).then((r) => console.log('lying ok', Date.now() - t, r.summary), (e) => console.log('lying', Date.now() - t, e.name, e.message));
})();
setTimeout(async () => {
  const sb = new FileSandbox({ memoryMb: 256, timeoutMs: 60000 });
  for (let i = 0; i < 3; i++) { const t = Date.now(); await sb.run({ kind: 'extract', prompt: '', uploads: [{ fileName: 'a.txt', bytes: Buffer.from('hello 2022') }] }); console.log('warm run', i, Date.now() - t); await new Promise(r => setTimeout(r, 1500)); }
  await sb.close();
}, 12000);
