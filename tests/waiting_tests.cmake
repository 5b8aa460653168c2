# Tests that mostly wait: paced probe sweeps, traffic replayed in real time
# through namespaces, a rate limit's pacing, another writer's lock. Each
# used under a third of a core over its run (user + system time against its
# unloaded wall time, measured one at a time). They take one of ctest's
# slots, every other test three (CMakeLists.txt, "Scheduling"), so they run
# beside the busy tests instead of in their place. A name that no longer
# exists is ignored by ctest; tools/check_shape.py says so.
foreach(callwall_waiting_test
    ProbeNetns.ASweepFindsTheOnePortDroppedInTheRange
    BusyDatabase.CaptureOutlastsAThirtySecondWriteTransaction
    AuditRateLimit.APerGuestMeterIsPacedNotBlocked
    LiveCapture.TwoInterfacesIntoOneRun
    LiveCapture.RotateSplitsTheCaptureIntoRunsWithoutLosingPackets
    LiveCapture.WorkersGiveTheOneThreadRunLiveAndAtTheEnd
    LiveCapture.FilterWidensToAddressesVendorNamesResolveTo
    LiveCapture.KnownTrafficThenSigint
    AuditSandbox.EndingProbesEarlyChangesNoOutcome
    BusyDatabase.CaptureAndAMergeIntoItsDatabaseBothFinish
    BusyDatabase.ACaptureWhoseEventPipeClosesFinishesWithEveryFlow
    AuditClientPorts.TenRunsGiveTheSameVerdictsAndIntervals
    ProbeNetns.OverIpv6ThroughAnIpv6Reflector
    ProbeNetns.DroppedUdpAndResetTcpAreBlockedWithTheirReasons
    ProbeNetns.ATcpAndAUdpProbeFromOneLocalPortAreJudgedApart
    LiveReaderNetns.BurstLargerThanTheKernelRingIsReadWholeWhileTheLoopIsBusy
    ReflectNetns.NoAnswerToTheUnauthenticatedAndNoAmplification
    ReflectNetns.SpoofedSynsGetOneSynAckEachAndNoMoreBytes
    LiveViewPty.HostileNamesReachTheTerminalEscaped
    ProbeNetns.TwoVendorsThroughOneReflectorKeepTheirFlowsApart
    LiveCapture.WorkersReadTheKernelsSplitOfTwoInterfacesAsOneThreadReadsThem
    AuditOutput.EveryLineFitsInAHundredColumns
    ProbeNetns.TransparentTcpProxyIsInterceptedNotObserved
    FanoutNetns.WorkersGiveOneThreadsFlowsOnTheKernelsSplitAndWhereTheKernelRefusesIt
)
  set_tests_properties(${callwall_waiting_test} PROPERTIES PROCESSORS 1)
endforeach()

# Tests that run alone: the exact sweeps, 64,512 paced probes each, which
# hold each port's verdict to a capture of every probe and answer. Beside
# eight other tests on two cores the capture can lose a probe's second
# request and its answer (read "1 STUN request(s), 0 retransmission(s)"),
# and the port reads blocked: the machine's starvation, not the sweep's
# logic, which these tests are for.
foreach(callwall_alone_test
    ProbeNetns.ASweepFindsTheOnePortDroppedInTheRange
    ProbeNetns.ASweepThroughAFirewallDroppingMostOfTheRangeIsExact
)
  set_tests_properties(${callwall_alone_test} PROPERTIES RUN_SERIAL TRUE)
endforeach()

# The longest tests start first. A fresh tree (CI's) has no record of test
# times, and ctest then starts tests in the order they are declared: these,
# declared late, would run last and alone on an otherwise idle machine.
# They are the tests that took longest (over 15 s in the release tree or
# 20 s under the sanitizers, one run each); ctest's own record of test times
# replaces this cost after the first run.
foreach(callwall_long_test
    Snapshot.ChangedFlowsOnlyLeaveTheRowsAFullSnapshotLeaves
    LiveAttribution.EachRefreshWritesWhatTheWholeStageWouldWrite
    Session.WriteBehindLeavesWhatInlineWritingLeavesAtEveryRefresh
    CorruptCaptures.MutatedCapturesNeverCrashHangOrTripSanitizers
    Detail.PerMessageRowsOnlyWithDetailAndTheVerdictsTheSame
    Snapshot.WorkersRefreshToTheRowsOneThreadWrites
    KeptFlows.OneStoreFromTheFirstRowToTheVerdicts
    NoFalseVendor.EveryPublicCaptureReportsExactlyTheVendorsItsTrafficHolds
    ReportFromRun.EqualsTheReportReadBackForEverySharedCapture
    ReportFromRun.EqualsTheReportReadBackForEveryCommittedCapture
    events_public_captures
    KeptFlows.EveryCommittedCaptureKeepsWhatItsRowsReadBackGive
    events_committed_captures
    Shards.EveryCommittedCaptureGivesTheSingleThreadDatabase
    Shards.EveryPublicCaptureGivesTheSingleThreadDatabase
    AuditAdminRulesets.ATightGlobalLimitOnTheAcceptIsPaced
    probe_lab_servers
    probe_lab_matrix
)
  set_tests_properties(${callwall_long_test} PROPERTIES COST 100)
endforeach()
