const { zipSync, unzipSync, strToU8 } = require('fflate');
const { FileSandbox } = require('./dist/src/agent/file-sandbox.js');
const { LocalAnalyzer } = require('./dist/src/agent/local-analyzer.js');
const { Document, Packer, Paragraph } = require('docx');
(async () => {
  const base = Buffer.from(await Packer.toBuffer(new Document({ sections: [{ children: [new Paragraph('MARKER')] }] })));
  const parts = unzipSync(base);
  const doc = new TextDecoder().decode(parts['word/document.xml']);
  const i = doc.indexOf('<w:p>'), j = doc.indexOf('</w:p>', i) + 6;
  const mb = Number(process.argv[3] || 40);
  let t = Date.now();
  const paras = []; let size = 0; let n = 0;
  while (size < mb * 1e6) { const p = `<w:p><w:r><w:t>${(n++ * 7919) % 1000003}</w:t></w:r></w:p>`; paras.push(p); size += p.length; }
  const xml = doc.slice(0, i) + paras.join('') + doc.slice(j);
  const z = zipSync({ ...parts, 'word/document.xml': strToU8(xml) }, { level: 6 });
  console.log('build', Date.now() - t, 'xml', xml.length, 'zip', z.length, 'ratio', xml.length / z.length);
  const sb = new FileSandbox({ memoryMb: Number(process.argv[2] || 256), timeoutMs: 120000 });
  await sb.run({ kind: 'extract', prompt: '', uploads: [{ fileName: 'w.txt', bytes: Buffer.from('warm') }] });
  t = Date.now();
  await sb.analyze(new LocalAnalyzer(), 'hi', [{ fileName: 'd.docx', bytes: z }]).then((r) => console.log('ok', Date.now() - t, r.files[0].facts), (e) => console.log('err', Date.now() - t, e.name, e.message));
  await sb.close();
})();
