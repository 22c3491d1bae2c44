import Vapor

/// Every route, grouped. The OpenAPI document lives at `Public/openapi.json` and a test keeps it in step.
func registerRoutes(_ app: Application) throws {
    try app.register(collection: StatusController())
    let mcp = MCPController()
    try app.register(collection: mcp)
    app.lifecycle.use(MCPSessionsLifecycle(sessions: mcp.sessions))
    try app.grouped("v1").register(collection: AuthController())
    // Everything below needs a caller (session cookie + CSRF on writes, API key, or local mode).
    let v1 = app.grouped("v1").grouped(RequireCaller()).grouped(OpenStreamLimiter())
    try v1.register(collection: GenerateController())
    try v1.register(collection: EditController())
    try v1.register(collection: JobController())
    try v1.register(collection: ImageController())
    try v1.register(collection: EventController())
    try v1.register(collection: AccountController())
    try v1.register(collection: AccountSessionsController())
    try v1.register(collection: OpenAICompatibleController())
    try v1.register(collection: WebhookController())
    try v1.register(collection: BatchController())
    try v1.register(collection: BatchArchiveController())
    let admin = app.grouped("v1").grouped(RequireCaller(adminOnly: true))
    try admin.register(collection: AdminController())
    try admin.register(collection: AdminSettingsController())
    try admin.register(collection: AdminInviteController())
    try admin.register(collection: AdminSpendController())
    try admin.register(collection: MetricsController())
    try admin.register(collection: UpstreamAdminController())
    try admin.register(collection: BatchSpendController())
}
