import Vapor

/// Every route, grouped. The OpenAPI document lives at `Public/openapi.json` and a test keeps it in step.
func registerRoutes(_ app: Application) throws {
    try app.register(collection: StatusController())
    let v1 = app.grouped("v1")
    try v1.register(collection: GenerateController())
    try v1.register(collection: EditController())
    try v1.register(collection: JobController())
    try v1.register(collection: ImageController())
    try v1.register(collection: EventController())
}
