// Node-RED loads a node file by its .js name and finds its .html beside it; the code is TypeScript.
export { default } from '../src/deliver.ts';
