/**
 * The CSV export's cells (server/audit/exportFormat.ts): RFC 4180 quoting, and no cell a
 * spreadsheet would run as a formula (OWASP CSV injection: = + - @ TAB CR at the start).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csvCell, csvRow } from '../../server/audit/exportFormat.js';

describe('audit CSV cells', () => {
  it('NSIS 6 (Low) 7: RFC 4180: a field with a quote, comma, CR or LF is quoted and its quotes doubled; others are left as they are', () => {
    assert.equal(csvCell('plain æøå'), 'plain æøå');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('two\nlines'), '"two\nlines"');
    assert.equal(csvCell(null), '');
    assert.equal(csvCell(42), '42');
    assert.equal(csvRow(['a', 'b,c', null]), 'a,"b,c",\r\n', 'CRLF between records');
  });

  it('NSIS 6 (Low) 7: a cell starting with = + - @ TAB or CR is prefixed with an apostrophe, so a spreadsheet shows it as text', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r']) {
      const cell = csvCell(`${start}1+1`);
      assert.ok(cell === `'${start}1+1` || cell === `"'${start}1+1"`, JSON.stringify(cell));
    }
    assert.equal(csvCell('=HYPERLINK("http://evil.example","x")'), `"'=HYPERLINK(""http://evil.example"",""x"")"`);
    assert.equal(csvCell('a=b'), 'a=b', 'only the start of a cell matters');
  });
});
