export { AuthSession } from './AuthSession';
export { CalendarEvent, type RecurrencePattern } from './CalendarEvent';
export { EventChangeLog } from './EventChangeLog';
export { EventPermission, ROLES, type Role } from './EventPermission';
export { EventVersion, type EventSnapshot } from './EventVersion';
export { RefreshToken } from './RefreshToken';
export { User } from './User';

import { AuthSession } from './AuthSession';
import { CalendarEvent } from './CalendarEvent';
import { EventChangeLog } from './EventChangeLog';
import { EventPermission } from './EventPermission';
import { EventVersion } from './EventVersion';
import { RefreshToken } from './RefreshToken';
import { User } from './User';

export const ENTITIES = [User, CalendarEvent, EventPermission, EventVersion, EventChangeLog, AuthSession, RefreshToken];
