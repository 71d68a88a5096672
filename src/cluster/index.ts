export { ChangeNotices, type ChangeListener } from './change-notices.js';
export { LeaderLease } from './leader-lease.js';
