# The training run of the profile-guided build (CMakeLists.txt, CALLWALL_PGO):
# the instrumented callwall analyzes generated traffic, and the counts it
# leaves are named for the objects compiled with them.
#
#   cmake -DPROFILING=<callwall_profiling> -DPYTHON=<python3> -DSOURCE_DIR=<source tree>
#         -DPGO_DIR=<build tree>/pgo -P cmake/pgo_train.cmake
#
# PGO_DIR/raw: the counts as the instrumented objects write them (one .gcda
# per object, named after its path below the build tree, '/' as '#');
# PGO_DIR/use: the same files named after the optimised objects';
# PGO_DIR/trained.stamp: written last, when both are complete.
foreach(var PROFILING PYTHON SOURCE_DIR PGO_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "pgo_train.cmake: -D${var}=... is required")
  endif()
endforeach()

file(REMOVE_RECURSE ${PGO_DIR}/raw ${PGO_DIR}/use ${PGO_DIR}/work)
file(REMOVE ${PGO_DIR}/trained.stamp)
file(MAKE_DIRECTORY ${PGO_DIR}/work)

# Stops the build with MESSAGE, leaving no generated traffic (260 MB) behind.
function(training_failed message)
  file(REMOVE_RECURSE ${PGO_DIR}/work)
  message(FATAL_ERROR "pgo_train.cmake: ${message}")
endfunction()

# Both mixes bench/compare.sh measures (another seed than its workloads'),
# each on one thread and on the default threads: the reading and writing
# threads' code is trained as well as the decoding thread's.
foreach(mix busy office)
  set(capture ${PGO_DIR}/work/${mix}.pcap)
  execute_process(
    COMMAND ${PYTHON} ${SOURCE_DIR}/tools/gen_workload.py --profile ${mix} --packets 200000 --seed 7 --out ${capture}
    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    training_failed("generating the ${mix} traffic failed (${rc}): ${err}")
  endif()
  foreach(threads 1 2)
    set(db ${PGO_DIR}/work/${mix}-${threads}.sqlite)
    execute_process(COMMAND ${PROFILING} analyze -q ${capture} --db ${db} --threads ${threads}
                    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
      training_failed("the instrumented callwall failed on the ${mix} traffic (--threads ${threads}, exit ${rc}): ${err}")
    endif()
  endforeach()
endforeach()
file(REMOVE_RECURSE ${PGO_DIR}/work)

file(GLOB counts RELATIVE ${PGO_DIR}/raw ${PGO_DIR}/raw/*.gcda)
if(NOT counts)
  message(FATAL_ERROR "pgo_train.cmake: the instrumented callwall wrote no counts into ${PGO_DIR}/raw")
endif()
file(MAKE_DIRECTORY ${PGO_DIR}/use)
foreach(name IN LISTS counts)
  string(REPLACE "#callwall_core_profiling.dir#" "#callwall_core.dir#" used "${name}")
  string(REPLACE "#callwall_profiling.dir#" "#callwall.dir#" used "${used}")
  file(COPY_FILE ${PGO_DIR}/raw/${name} ${PGO_DIR}/use/${used})
endforeach()
list(LENGTH counts n)
file(WRITE ${PGO_DIR}/trained.stamp "${n} profiles\n")
