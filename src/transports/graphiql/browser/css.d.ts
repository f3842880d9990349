// esbuild bundles the stylesheets main.tsx imports for their side effect; TypeScript 6 checks that
// every side-effect import resolves (noUncheckedSideEffectImports), so it is told that .css files exist.
declare module '*.css'
