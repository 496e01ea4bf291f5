// Helpers for config schemas (not the database schema, which is store/'s): each config object is one TypeBox
// schema carrying its defaults; the filled-in type and the normaliser derive from it. A leaf part (TypeBox only),
// so any part may use it.
export { fillDefaults, withDefault, type Filled, type TDefaulted } from './defaults.js';
