import { AppError, toErrorResponse } from "@/server/errors";

// Unknown API paths answer the API's JSON 404, not the HTML page.
const notFound = async () => toErrorResponse(new AppError("NOT_FOUND", "No such API endpoint"));
export { notFound as GET, notFound as POST, notFound as PUT, notFound as PATCH, notFound as DELETE };
