// Schemas several route plugins share.
import { z } from 'zod';

export const idParam = z.object({ id: z.string() });
export const isoTime = z.iso.datetime({ offset: true });
