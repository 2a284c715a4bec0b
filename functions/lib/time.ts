export const nowIso = () => new Date().toISOString();

/**
 * Lets requests waiting on the event loop run. A local database answers synchronously, so a
 * loop of awaited queries is otherwise one chain of microtasks that holds every request.
 */
export const yieldToEventLoop = () => new Promise<void>((resume) => setTimeout(resume, 0));
