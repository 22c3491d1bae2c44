import Fluent

extension Migrations {
    /// Every migration, in order. Append only.
    func addAtelierMigrations() {
        add(CreateJobs())
        add(CreateImages())
        add(CreateJobEvents())
        add(CreateAccounts())
        add(CreateGovernance())
        add(CreateQueueHeadsIndex())
        add(AddAccountSecurity())
        add(AddSpendAttemptAccounting())
        add(CreateUpstreamLanes())
        add(CreateWebhooks())
        add(CreateBatches())
        add(AddJobsCompatCaller())
        add(CreateQueueOrderIndex())
        add(CreateAdmitJobFunction())
        add(OrderAdmitJobRateHits())
        add(CreateCompleteJobFunction())
    }
}
