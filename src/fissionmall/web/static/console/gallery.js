// Placeholder for the console's image gallery widget (another branch writes the real one): the
// <div data-gallery> keeps its hidden <input name="images"> fields, which submit as they are.
export {};
