'use strict';
// ESLint for the JavaScript around the wasm: pkg-scripts/, tests/, js-shim/ (Node, CommonJS).
// `npm test` runs it (pkg-scripts/test.sh), next to cargo fmt and clippy.
//
// The formatting check is the @stylistic rules below, not prettier: prettier --check (any
// printWidth from 120 to 200) would rewrite 30 of the 35 files, ~1,100 lines of
// pkg-scripts alone, so each rule here is one the code already follows, keeping its
// style: 2-space indents, single quotes, semicolons, trailing commas in multi-line literals,
// long lines where they read better (no max-len).
const js = require('@eslint/js');
const globals = require('globals');
const stylistic = require('@stylistic/eslint-plugin');

const style = {
  '@stylistic/indent': ['error', 2, {
    SwitchCase: 1,
    // Chained ternaries are laid out by what reads best (flat, or nested one step deeper).
    ignoredNodes: ['ConditionalExpression'],
  }],
  '@stylistic/semi': ['error', 'always'],
  '@stylistic/quotes': ['error', 'single', { avoidEscape: true }],
  '@stylistic/comma-dangle': ['error', 'always-multiline'],
  '@stylistic/no-trailing-spaces': 'error',
  '@stylistic/eol-last': 'error',
  '@stylistic/no-multiple-empty-lines': ['error', { max: 1 }],
  '@stylistic/no-tabs': 'error',
  '@stylistic/linebreak-style': 'error',
  '@stylistic/brace-style': ['error', '1tbs', { allowSingleLine: true }],
  '@stylistic/keyword-spacing': 'error',
  '@stylistic/space-before-blocks': 'error',
  '@stylistic/space-infix-ops': 'error',
  '@stylistic/space-unary-ops': 'error',
  '@stylistic/comma-spacing': 'error',
  '@stylistic/comma-style': 'error',
  '@stylistic/key-spacing': 'error',
  '@stylistic/object-curly-spacing': ['error', 'always'],
  '@stylistic/array-bracket-spacing': 'error',
  '@stylistic/computed-property-spacing': 'error',
  '@stylistic/space-in-parens': 'error',
  '@stylistic/template-curly-spacing': 'error',
  '@stylistic/rest-spread-spacing': 'error',
  '@stylistic/arrow-parens': ['error', 'always'],
  '@stylistic/arrow-spacing': 'error',
  '@stylistic/semi-spacing': 'error',
  '@stylistic/block-spacing': 'error',
  '@stylistic/function-call-spacing': 'error',
  '@stylistic/space-before-function-paren': ['error', { anonymous: 'always', named: 'never', asyncArrow: 'always' }],
  '@stylistic/generator-star-spacing': 'error',
  '@stylistic/yield-star-spacing': 'error',
  '@stylistic/switch-colon-spacing': 'error',
  '@stylistic/dot-location': ['error', 'property'],
  '@stylistic/operator-linebreak': ['error', 'after', { overrides: { '?': 'before', ':': 'before' } }],
  '@stylistic/nonblock-statement-body-position': 'error',
  '@stylistic/padded-blocks': ['error', 'never'],
  '@stylistic/quote-props': ['error', 'as-needed'],
  '@stylistic/new-parens': 'error',
  '@stylistic/no-multi-spaces': 'error',
  '@stylistic/no-extra-semi': 'error',
  '@stylistic/no-floating-decimal': 'error',
  '@stylistic/wrap-iife': 'error',
  '@stylistic/spaced-comment': ['error', 'always', { block: { balanced: true } }],
};

module.exports = [
  { ignores: ['target/**', 'dist/**', 'pkg/**', 'node_modules/**'] },
  js.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'commonjs', globals: { ...globals.node } },
    plugins: { '@stylistic': stylistic },
    rules: {
      // `_` marks what is deliberately unused (catch (_)); a rest sibling drops a key from a copy.
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true }],
      ...style,
    },
  },
  {
    // Auth0 calls every Action handler as (event, api): the peer's signature is Auth0's, used or not.
    files: ['pkg-scripts/bench/peer-action*.js', 'pkg-scripts/bench/empty-action.js'],
    rules: { 'no-unused-vars': ['error', { args: 'none' }] },
  },
  {
    // An ES module for the bindings' tests (wasm-bindgen imports it); build.js copies its
    // function into the shipped file.
    files: ['js-shim/value-kind.js'],
    languageOptions: { sourceType: 'module' },
  },
  {
    // A template, not the shipped file: build.js replaces its /*@NAME@*/ comments, splicing the
    // wasm-bindgen glue in at /*@GLUE@*/. The glue defines wasm_bindgen and calls the
    // queueMicrotask shadowed just above it.
    files: ['js-shim/action.template.js'],
    languageOptions: { globals: { wasm_bindgen: 'readonly' } },
    rules: {
      'no-unused-vars': ['error', { varsIgnorePattern: '^queueMicrotask$', caughtErrorsIgnorePattern: '^_' }],
      '@stylistic/spaced-comment': 'off',
    },
  },
];
