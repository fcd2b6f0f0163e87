#include <gtest/gtest.h>

#include "switchyard/switchyard.h"
