// cytoscape-svg ships no types: it adds cy.svg(options) (see canvas.ts).
declare module "cytoscape-svg";
