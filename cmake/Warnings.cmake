# strata_warnings(target): our code builds warning-free; generated code does not get this.
function(strata_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Werror=unused-result
                                           -Wno-unused-parameter)
endfunction()
