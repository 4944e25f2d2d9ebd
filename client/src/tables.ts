// Tables on a phone: style.css lays each row out as a card, one value under the other, so nothing
// scrolls sideways or hides off-screen (an action button in the last column). Each cell then
// shows its column's heading before its value, from data-label, which this module copies from
// the table's <thead> whenever rows are drawn. The rows keep their table roles explicitly, since
// a table laid out as blocks may otherwise lose them for screen readers.

/** Copies each column heading to the cells under it and names every part's table role. */
export function labelTableCells(root: ParentNode = document): void {
  for (const table of Array.from(root.querySelectorAll('table'))) {
    table.setAttribute('role', 'table');
    const heads = Array.from(table.querySelectorAll<HTMLTableCellElement>('thead th')).map((th) => {
      th.setAttribute('role', 'columnheader');
      return (th.textContent ?? '').trim();
    });
    for (const group of [table.tHead, ...Array.from(table.tBodies)]) group?.setAttribute('role', 'rowgroup');
    for (const body of Array.from(table.tBodies)) {
      for (const row of Array.from(body.rows)) {
        row.setAttribute('role', 'row');
        let column = 0;
        for (const cell of Array.from(row.cells)) {
          cell.setAttribute('role', cell.tagName === 'TH' ? 'rowheader' : 'cell');
          const heading = heads[column];
          if (heading && cell.dataset['label'] !== heading) cell.dataset['label'] = heading;
          column += Math.max(1, cell.colSpan);
        }
      }
    }
  }
}

// Every page draws its rows after loading: label them as they come (attribute changes made here
// are not observed, so this does not feed itself).
labelTableCells();
new MutationObserver(() => labelTableCells()).observe(document.body, { childList: true, subtree: true });
