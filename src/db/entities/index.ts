export { AuthSession } from './AuthSession';
export { CalendarEvent, type RecurrencePattern } from './CalendarEvent';
export { EventChangeLog } from './EventChangeLog';
export { EventDocument } from './EventDocument';
export { EventDocumentUpdate } from './EventDocumentUpdate';
export { EventPermission, ROLES, type Role } from './EventPermission';
export { EventVersion, type EventSnapshot } from './EventVersion';
export { RefreshToken } from './RefreshToken';
export { User } from './User';

import { AuthSession } from './AuthSession';
import { CalendarEvent } from './CalendarEvent';
import { EventChangeLog } from './EventChangeLog';
import { EventDocument } from './EventDocument';
import { EventDocumentUpdate } from './EventDocumentUpdate';
import { EventPermission } from './EventPermission';
import { EventVersion } from './EventVersion';
import { RefreshToken } from './RefreshToken';
import { User } from './User';

export const ENTITIES = [
  User,
  CalendarEvent,
  EventPermission,
  EventVersion,
  EventChangeLog,
  EventDocument,
  EventDocumentUpdate,
  AuthSession,
  RefreshToken,
];
